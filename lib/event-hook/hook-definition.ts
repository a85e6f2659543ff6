/**
 * What this service wants Okta's event hook to be, checked against Okta's limits before any
 * call, and how it differs from the hook Okta has. The secret is compared nowhere: Okta never
 * returns it (DESIGN.md §14), so it is sent with every create and update and otherwise left alone.
 */
import type { EventHookDefinition, OktaEventHook } from '../okta/event-hooks-client';
import { HOOK_ELIGIBLE_EVENT_TYPES } from './hook-eligible-types';

/** Okta's limits (DESIGN.md §14). */
export const MAX_ACTIVE_HOOKS = 25;
export const MAX_EVENT_TYPES_PER_HOOK = 300;

/** A setting the user must change; one line, never a secret. */
export class HookSettingsError extends Error {
  override name = 'HookSettingsError';
}

export interface DesiredHook {
  name: string;
  uri: string;
  /** The auth header's name (Okta's "Authentication field"). */
  authHeader: string;
  secret: string;
  types: string[];
}

export function defaultHookName(stage: string): string {
  return `okta-event-hooks-${stage}`;
}

/** Refuses what Okta would refuse, by name, before calling it. */
export function checkLimits(types: readonly string[]): void {
  if (types.length === 0) {
    throw new HookSettingsError(
      'no event types: set OKTA_EVENT_TYPES (params.<stage>.oktaEventTypes in serverless.yml), a comma list such as user.lifecycle.create,user.session.start',
    );
  }
  if (new Set(types).size > MAX_EVENT_TYPES_PER_HOOK) {
    throw new HookSettingsError(
      `${new Set(types).size} event types: Okta allows at most ${MAX_EVENT_TYPES_PER_HOOK} per event hook`,
    );
  }
  const refused = types.filter((t) => !HOOK_ELIGIBLE_EVENT_TYPES.has(t));
  if (refused.length > 0) {
    throw new HookSettingsError(
      `Okta does not offer ${refused.join(', ')} for event hooks (lib/event-hook/hook-eligible-types.ts lists those it does)`,
    );
  }
}

export function hookBody(desired: DesiredHook): EventHookDefinition {
  return {
    name: desired.name,
    events: { type: 'EVENT_TYPE', items: [...new Set(desired.types)].sort() },
    channel: {
      type: 'HTTP',
      version: '1.0.0',
      config: {
        uri: desired.uri,
        headers: [],
        authScheme: { type: 'HEADER', key: desired.authHeader, value: desired.secret },
      },
    },
  };
}

/** The fields that differ, in words (`types +a -b`, `uri`, …); empty when none does. */
export function differences(okta: OktaEventHook, desired: DesiredHook): string[] {
  const changes: string[] = [];
  if (okta.name !== desired.name) changes.push(`name ${okta.name} → ${desired.name}`);
  const uri = okta.channel.config.uri;
  if (normalUrl(uri) !== normalUrl(desired.uri)) changes.push(`uri ${uri} → ${desired.uri}`);
  const key = okta.channel.config.authScheme?.key;
  // Header names are case-insensitive (API Gateway lower-cases them).
  if (key?.toLowerCase() !== desired.authHeader.toLowerCase()) {
    changes.push(`auth header ${key ?? '(none)'} → ${desired.authHeader}`);
  }
  if ((okta.channel.config.headers ?? []).length > 0) changes.push('custom headers removed');
  const have = new Set(okta.events.items);
  const want = new Set(desired.types);
  const added = [...want].filter((t) => !have.has(t)).sort();
  const removed = [...have].filter((t) => !want.has(t)).sort();
  if (added.length + removed.length > 0) {
    changes.push(
      `types ${[...added.map((t) => `+${t}`), ...removed.map((t) => `-${t}`)].join(' ')}`,
    );
  }
  return changes;
}

function normalUrl(url: string): string {
  try {
    return new URL(url).toString();
  } catch {
    return url;
  }
}
