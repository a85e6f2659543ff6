/**
 * `hook status`: the hook as Okta sees it beside what this stage would apply, and Okta's
 * `event_hook.delivery` failures of the last 24 hours from the System Log (Okta writes one only
 * for a delivery it gave up on). Okta never returns the secret: only whether the hook has one.
 */
import type { OktaEventHook } from '../okta/event-hooks-client';
import { HOOK_DELIVERY_EVENT_TYPE, LOGS_SCOPE, SystemLogClient } from '../okta/system-log';
import { DEFAULT_RATE_LIMIT_SHARE } from '../config';
import { type DesiredHook, differences } from './hook-definition';
import type { HookTarget } from './hook-settings';

const DAY_MS = 86_400_000;
/** Failures listed one by one; the rest are counted. */
const MAX_FAILURES_LISTED = 10;

export interface DeliveryFailure {
  published: string;
  reason: string;
  deliveryEventId: string;
}

/** Okta's event_hook.delivery events about this hook, oldest first. */
export async function deliveryFailures(
  target: HookTarget,
  hookId: string,
  nowMs = Date.now(),
): Promise<DeliveryFailure[]> {
  const logs = new SystemLogClient(
    target.orgUrl,
    target.authFor([LOGS_SCOPE]),
    DEFAULT_RATE_LIMIT_SHARE,
  );
  const failures: DeliveryFailure[] = [];
  let url: string | undefined = logs.logsUrl({
    since: new Date(nowMs - DAY_MS),
    until: new Date(nowMs),
    filter: `eventType eq "${HOOK_DELIVERY_EVENT_TYPE}"`,
  });
  while (url !== undefined) {
    const page = await logs.logPage(url);
    for (const { event } of page.events) {
      const e = event as Record<string, unknown> & {
        target?: Array<{ id?: string }> | null;
        outcome?: { reason?: string } | null;
        debugContext?: { debugData?: Record<string, unknown> } | null;
        transaction?: { id?: string } | null;
      };
      const data = e.debugContext?.debugData ?? {};
      const about = data.eventHookId === hookId || (e.target ?? []).some((t) => t.id === hookId);
      if (!about) continue;
      failures.push({
        published: String(e.published),
        reason: e.outcome?.reason ?? 'no reason given',
        deliveryEventId: String(data.deliveryEventId ?? e.transaction?.id ?? ''),
      });
    }
    url = page.events.length === 0 ? undefined : page.next;
  }
  return failures;
}

export function describeHook(
  hook: OktaEventHook,
  desired: Omit<DesiredHook, 'secret'> | undefined,
): string[] {
  const auth = hook.channel.config.authScheme;
  const drift = desired ? differences(hook, { ...desired, secret: '' }) : [];
  return [
    `hook ${hook.id} (${hook.name})`,
    `  status        ${hook.status}, ${hook.verificationStatus}`,
    `  endpoint      ${hook.channel.config.uri}`,
    `  auth header   ${auth ? `${auth.key}, secret set in Okta: yes` : 'none, secret set in Okta: no'}`,
    `  event types   ${hook.events.items.length}: ${[...hook.events.items].sort().join(', ')}`,
    `  created       ${hook.created ?? '?'}, last updated ${hook.lastUpdated ?? '?'}`,
    desired === undefined
      ? '  this stage    (give --url to compare with what apply would set)'
      : drift.length === 0
        ? '  this stage    same: apply would change nothing'
        : `  this stage    apply would change: ${drift.join('; ')}`,
  ];
}

export function describeFailures(failures: readonly DeliveryFailure[]): string[] {
  const lines = [`event_hook.delivery failures in the last 24 h: ${failures.length}`];
  for (const f of failures.slice(-MAX_FAILURES_LISTED)) {
    lines.push(`  ${f.published}  delivery ${f.deliveryEventId}  ${f.reason}`);
  }
  if (failures.length > MAX_FAILURES_LISTED) {
    lines.push(
      `  (the last ${MAX_FAILURES_LISTED} shown; npm run reconcile stores what they carried)`,
    );
  }
  return lines;
}
