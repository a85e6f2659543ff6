/**
 * The fake org's Event Hooks API (DESIGN.md §14), and the deliveries Okta makes to its hooks.
 *
 * - `GET|POST /api/v1/eventHooks`, `GET|PUT|DELETE /api/v1/eventHooks/{id}`,
 *   `POST /api/v1/eventHooks/{id}/lifecycle/{activate|deactivate|verify}`, with Okta's shapes:
 *   a new hook is ACTIVE and UNVERIFIED, `authScheme.value` is never returned, a PUT that changes
 *   the channel makes the hook UNVERIFIED again, only an INACTIVE hook can be deleted, at most 25
 *   active hooks and 300 event types a hook.
 * - `verify` really calls the endpoint: a GET with X-Okta-Verification-Challenge and the hook's
 *   auth header, 3 s timeout, one retry; 400 when it fails.
 * - `deliver` posts events to every ACTIVE, VERIFIED hook subscribed to their type, in Okta's
 *   envelope with the hook's current auth header, by Okta's retry rules; each delivery Okta gives
 *   up on is written to the System Log as `event_hook.delivery`.
 *
 * Scopes are checked by the caller (fake-org.ts), which owns authentication.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { OKTA_TIMEOUT_MS, describeAttempt, oktaHeaders, outcomeOf, withOktaRetry } from './deliver';
import type { LogEvent } from './events';
import { HttpRefusal, oktaError } from './okta-errors';
import { hookDeliveryFailureEvent } from './system-log-recorder';
import { verifyEndpoint } from './verify';

/** Okta's limits (DESIGN.md §14). */
export const MAX_ACTIVE_HOOKS = 25;
export const MAX_EVENT_TYPES_PER_HOOK = 300;
/**
 * Okta does not document what happens to deliveries while a hook that was verified waits to be
 * verified again (after a channel update, e.g. a new secret). The fake org holds them this long.
 */
const REVERIFY_HOLD_MS = 10_000;

export interface HookHeader {
  key: string;
  value: string;
}

/** A hook as the fake org keeps it: the secret included, which no answer ever carries. */
export interface StoredHook {
  id: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  verificationStatus: 'VERIFIED' | 'UNVERIFIED';
  events: { type: 'EVENT_TYPE'; items: string[]; filter: unknown };
  channel: {
    type: 'HTTP';
    version: string;
    config: {
      uri: string;
      headers: HookHeader[];
      authScheme: { type: 'HEADER'; key: string; value: string } | null;
      method: 'POST';
    };
  };
  created: string;
  lastUpdated: string;
  /** Verified at least once: an update that unverified it holds deliveries, it does not drop them. */
  everVerified: boolean;
}

export interface HookDeliverySummary {
  hookId: string;
  deliveries: number;
  accepted: number;
  failed: number;
}

export interface EventHooksApiDeps {
  now: () => number;
  /** Writes events to the org's System Log (delivery failures). */
  addToSystemLog: (events: object[]) => void;
  /** Okta's timeout for verification and deliveries; only tests shorten it. */
  timeoutMs?: number;
}

export interface ApiAnswer {
  status: number;
  body: string;
}

/** Okta's hook ids look like `who7hphp39JoHLni81d7`. */
function newHookId(): string {
  return `who${randomBytes(15).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;
}

function validation(field: string, cause: string): HttpRefusal {
  return oktaError(400, 'E0000001', `Api validation failed: ${field}`, [`${field}: ${cause}`]);
}

function notFound(id: string): HttpRefusal {
  return oktaError(404, 'E0000007', `Not found: Resource not found: ${id} (EventHook)`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a POST or PUT body says, checked as Okta checks it. */
function parseHookBody(text: string): Pick<StoredHook, 'name' | 'events' | 'channel'> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw oktaError(400, 'E0000003', 'The request body was not well-formed.');
  }
  if (!isObject(body)) throw oktaError(400, 'E0000003', 'The request body was not well-formed.');
  const { name, events, channel } = body;
  if (typeof name !== 'string' || name.trim() === '') {
    throw validation('name', 'The field cannot be left blank.');
  }
  if (!isObject(events) || events.type !== 'EVENT_TYPE' || !Array.isArray(events.items)) {
    throw validation('events', 'events must be {type: "EVENT_TYPE", items: [...]}.');
  }
  const items = events.items as unknown[];
  if (items.length === 0 || !items.every((t) => typeof t === 'string' && t !== '')) {
    throw validation('events.items', 'At least one event type is required.');
  }
  if (new Set(items).size > MAX_EVENT_TYPES_PER_HOOK) {
    throw validation(
      'events.items',
      `An event hook can subscribe to at most ${MAX_EVENT_TYPES_PER_HOOK} event types.`,
    );
  }
  if (!isObject(channel) || channel.type !== 'HTTP' || !isObject(channel.config)) {
    throw validation('channel', 'channel must be {type: "HTTP", version: "1.0.0", config: {...}}.');
  }
  const config = channel.config;
  let uri: URL;
  try {
    uri = new URL(String(config.uri));
  } catch {
    throw validation('channel.config.uri', 'The URI is not valid.');
  }
  if (uri.protocol !== 'https:' && uri.protocol !== 'http:') {
    throw validation('channel.config.uri', 'The URI must use HTTPS.');
  }
  const headers = config.headers ?? [];
  if (
    !Array.isArray(headers) ||
    !headers.every((h) => isObject(h) && typeof h.key === 'string' && typeof h.value === 'string')
  ) {
    throw validation('channel.config.headers', 'headers must be a list of {key, value}.');
  }
  let authScheme: StoredHook['channel']['config']['authScheme'] = null;
  if (config.authScheme !== undefined && config.authScheme !== null) {
    const scheme = config.authScheme;
    if (
      !isObject(scheme) ||
      scheme.type !== 'HEADER' ||
      typeof scheme.key !== 'string' ||
      scheme.key === '' ||
      typeof scheme.value !== 'string'
    ) {
      throw validation(
        'channel.config.authScheme',
        'authScheme must be {type: "HEADER", key, value}.',
      );
    }
    authScheme = { type: 'HEADER', key: scheme.key, value: scheme.value };
  }
  return {
    name: name.trim(),
    events: {
      type: 'EVENT_TYPE',
      items: [...new Set(items as string[])],
      filter: events.filter ?? null,
    },
    channel: {
      type: 'HTTP',
      version: typeof channel.version === 'string' ? channel.version : '1.0.0',
      config: {
        uri: uri.toString(),
        headers: (headers as HookHeader[]).map(({ key, value }) => ({ key, value })),
        authScheme,
        method: 'POST',
      },
    },
  };
}

/** The hook as Okta answers it: never the secret. */
function publicView(hook: StoredHook, orgUrl: string): Record<string, unknown> {
  const { authScheme } = hook.channel.config;
  const self = `${orgUrl}/api/v1/eventHooks/${hook.id}`;
  const lifecycle = hook.status === 'ACTIVE' ? 'deactivate' : 'activate';
  return {
    id: hook.id,
    status: hook.status,
    verificationStatus: hook.verificationStatus,
    name: hook.name,
    description: null,
    created: hook.created,
    createdBy: null,
    lastUpdated: hook.lastUpdated,
    events: hook.events,
    channel: {
      ...hook.channel,
      config: {
        ...hook.channel.config,
        authScheme: authScheme ? { type: authScheme.type, key: authScheme.key } : null,
      },
    },
    _links: {
      self: { href: self, hints: { allow: ['GET', 'PUT', 'DELETE'] } },
      [lifecycle]: { href: `${self}/lifecycle/${lifecycle}`, hints: { allow: ['POST'] } },
      verify: { href: `${self}/lifecycle/verify`, hints: { allow: ['POST'] } },
    },
  };
}

function sameChannel(a: StoredHook['channel'], b: StoredHook['channel']): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class FakeEventHooks {
  readonly hooks = new Map<string, StoredHook>();

  constructor(private readonly deps: EventHooksApiDeps) {}

  private iso(): string {
    return new Date(this.deps.now()).toISOString();
  }

  /** A hook that is already there, ACTIVE, VERIFIED unless said (reconciler tests, `serve`). */
  seed(
    id: string,
    types: string[],
    { name = 'Event hook', uri = 'https://example.com/hook', verified = true } = {},
  ): void {
    const at = this.iso();
    this.hooks.set(id, {
      id,
      name,
      status: 'ACTIVE',
      verificationStatus: verified ? 'VERIFIED' : 'UNVERIFIED',
      everVerified: verified,
      events: { type: 'EVENT_TYPE', items: [...types], filter: null },
      channel: {
        type: 'HTTP',
        version: '1.0.0',
        config: { uri, headers: [], authScheme: null, method: 'POST' },
      },
      created: at,
      lastUpdated: at,
    });
  }

  private find(id: string): StoredHook {
    const hook = this.hooks.get(id);
    if (!hook) throw notFound(id);
    return hook;
  }

  private activeCount(): number {
    return [...this.hooks.values()].filter((h) => h.status === 'ACTIVE').length;
  }

  /** Answers one Event Hooks API request; `path` is what follows `/api/v1/eventHooks`. */
  async handle(method: string, path: string, body: string, orgUrl: string): Promise<ApiAnswer> {
    const json = (status: number, value: unknown): ApiAnswer => ({
      status,
      body: JSON.stringify(value),
    });
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 0 && method === 'GET') {
      return json(
        200,
        [...this.hooks.values()].map((h) => publicView(h, orgUrl)),
      );
    }
    if (parts.length === 0 && method === 'POST') {
      const fields = parseHookBody(body);
      if (this.activeCount() >= MAX_ACTIVE_HOOKS) {
        throw validation(
          'eventHook',
          `An org can have at most ${MAX_ACTIVE_HOOKS} active event hooks.`,
        );
      }
      const at = this.iso();
      const hook: StoredHook = {
        id: newHookId(),
        status: 'ACTIVE',
        verificationStatus: 'UNVERIFIED',
        ...fields,
        created: at,
        lastUpdated: at,
        everVerified: false,
      };
      this.hooks.set(hook.id, hook);
      return json(200, publicView(hook, orgUrl));
    }
    const [id, lifecycle, action] = parts as [string, string | undefined, string | undefined];
    if (parts.length === 1 && method === 'GET') return json(200, publicView(this.find(id), orgUrl));
    if (parts.length === 1 && method === 'PUT') {
      const hook = this.find(id);
      const fields = parseHookBody(body);
      // Okta keeps the secret when an update leaves authScheme.value out (it never returns it).
      if (fields.channel.config.authScheme && hook.channel.config.authScheme) {
        const given = JSON.parse(body) as {
          channel: { config: { authScheme: { value?: unknown } } };
        };
        if (given.channel.config.authScheme.value === undefined) {
          fields.channel.config.authScheme.value = hook.channel.config.authScheme.value;
        }
      }
      if (!sameChannel(hook.channel, fields.channel)) hook.verificationStatus = 'UNVERIFIED';
      Object.assign(hook, fields, { lastUpdated: this.iso() });
      return json(200, publicView(hook, orgUrl));
    }
    if (parts.length === 1 && method === 'DELETE') {
      const hook = this.find(id);
      if (hook.status !== 'INACTIVE') {
        throw validation(
          'eventHook',
          'Only an INACTIVE event hook can be deleted: deactivate it first.',
        );
      }
      this.hooks.delete(id);
      return { status: 204, body: '' };
    }
    if (parts.length === 3 && lifecycle === 'lifecycle' && method === 'POST') {
      const hook = this.find(id);
      if (action === 'activate') {
        if (hook.status !== 'ACTIVE' && this.activeCount() >= MAX_ACTIVE_HOOKS) {
          throw validation(
            'eventHook',
            `An org can have at most ${MAX_ACTIVE_HOOKS} active event hooks.`,
          );
        }
        hook.status = 'ACTIVE';
      } else if (action === 'deactivate') {
        hook.status = 'INACTIVE';
      } else if (action === 'verify') {
        await this.verify(hook);
      } else {
        throw oktaError(404, 'E0000022', `The endpoint does not support the provided HTTP method`);
      }
      hook.lastUpdated = this.iso();
      return json(200, publicView(hook, orgUrl));
    }
    throw oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method');
  }

  private async verify(hook: StoredHook): Promise<void> {
    const { uri, authScheme, headers } = hook.channel.config;
    const result = await verifyEndpoint(uri, {
      secret: authScheme?.value,
      authHeader: authScheme?.key,
      extraHeaders: headers,
      timeoutMs: this.deps.timeoutMs ?? OKTA_TIMEOUT_MS,
    });
    if (!result.verified) {
      throw oktaError(400, 'E0000001', 'Api validation failed: Verification', [
        `Unable to verify event hook: ${result.reason}`,
      ]);
    }
    hook.verificationStatus = 'VERIFIED';
    hook.everVerified = true;
  }

  /**
   * Okta's deliveries of `events` (already in the System Log): to every ACTIVE, VERIFIED hook
   * subscribed to their types, `perRequest` events an envelope, one delivery at a time per hook.
   * A hook whose endpoint is `exceptUri` is left out (send --url has delivered there itself).
   */
  async deliver(
    events: readonly LogEvent[],
    orgUrl: string,
    perRequest = 1,
    exceptUri?: string,
  ): Promise<HookDeliverySummary[]> {
    const summaries: HookDeliverySummary[] = [];
    for (const hook of this.hooks.values()) {
      if (hook.status !== 'ACTIVE' || !hook.everVerified) continue;
      if (exceptUri !== undefined && hook.channel.config.uri === exceptUri) continue;
      const subscribed = events.filter((e) => hook.events.items.includes(String(e.eventType)));
      const summary = { hookId: hook.id, deliveries: 0, accepted: 0, failed: 0 };
      for (let i = 0; i < subscribed.length; i += perRequest) {
        summary.deliveries++;
        const ok = await this.deliverOne(hook, subscribed.slice(i, i + perRequest), orgUrl);
        if (ok) summary.accepted++;
        else summary.failed++;
      }
      summaries.push(summary);
    }
    return summaries;
  }

  private async deliverOne(hook: StoredHook, batch: LogEvent[], orgUrl: string): Promise<boolean> {
    const eventId = randomUUID();
    const held = Date.now();
    while (hook.verificationStatus !== 'VERIFIED' && Date.now() - held < REVERIFY_HOLD_MS) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (hook.verificationStatus !== 'VERIFIED') {
      this.logFailure(hook, eventId, orgUrl, 'the event hook was not verified again in time');
      return false;
    }
    const body = JSON.stringify({
      eventType: 'com.okta.event_hook',
      eventTypeVersion: '1.0',
      cloudEventsVersion: '0.1',
      source: `${orgUrl}/api/v1/eventHooks/${hook.id}`,
      eventId,
      eventTime: this.iso(),
      contentType: 'application/json',
      data: { events: batch },
    });
    // The auth header is read at each attempt: a rotation's PUT applies to the next request.
    const { attempts } = await withOktaRetry(() => {
      const { uri, authScheme, headers } = hook.channel.config;
      const sender = {
        secret: authScheme?.value,
        authHeader: authScheme?.key,
        extraHeaders: headers,
      };
      return { method: 'POST', url: uri, headers: oktaHeaders(sender, 'POST'), body };
    }, this.deps.timeoutMs ?? OKTA_TIMEOUT_MS);
    const last = attempts[attempts.length - 1]!;
    if (outcomeOf(last) === 'accepted') return true;
    const reason = `endpoint answered ${attempts.map(describeAttempt).join(' → ')}`;
    this.logFailure(hook, eventId, orgUrl, reason);
    return false;
  }

  private logFailure(hook: StoredHook, eventId: string, orgUrl: string, reason: string): void {
    this.deps.addToSystemLog([
      hookDeliveryFailureEvent(eventId, reason, new Date(this.deps.now()), {
        id: hook.id,
        name: hook.name,
        orgUrl,
      }),
    ]);
  }
}
