/**
 * Okta's System Log API (`GET /api/v1/logs`) and Event Hooks API, as the reconciler uses them
 * (DESIGN.md §8):
 *
 * - A *polling* request (`since`, no `until`, ascending, `limit=1000`) filters by persistence
 *   time, so late events are not skipped; it always answers a `next` link. A *bounded* request
 *   (`since` + `until`) is ordered by `published` and ends without one.
 * - Pages are followed by the `Link: <…>; rel="next"` URL exactly as given, never built.
 * - Rate limits: at most `rateLimitShare` of each bucket; a 429 waits until the reset plus jitter.
 * - Each event is kept as its exact JSON text, as hook events are.
 */
import { OktaApiError } from '../errors';
import { sleep } from '../sleep';
import { linkUrl } from './link-header';
import { type OktaAuth, networkReason } from './okta-auth';
import { type ParsedEvent, parseLogEvents } from './okta-contract';
import { type RateLimitState, rateLimitOf, waitBeforeNext } from './rate-limit';

/** The largest page Okta serves. */
export const MAX_PAGE_SIZE = 1000;
/** What Okta logs for each event hook delivery it could not make. */
export const HOOK_DELIVERY_EVENT_TYPE = 'event_hook.delivery';
/** Scope of `GET /api/v1/logs` for an OAuth service app. */
export const LOGS_SCOPE = 'okta.logs.read';
/** Scope of `GET /api/v1/eventHooks/{id}`. */
export const EVENT_HOOKS_SCOPE = 'okta.eventHooks.read';
/** Okta ends a System Log query at 30 s (500 E0000009); a little more covers the transfer. */
const REQUEST_TIMEOUT_MS = 35_000;
/** Attempts for a 5xx or no answer; 429s are waited out instead, as long as the deadline allows. */
const MAX_ATTEMPTS = 3;
const MAX_RATE_LIMIT_WAITS = 20;
/** Okta's event types are dotted lower-case words; anything else cannot go in a SCIM string. */
const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_.-]{1,200}$/;
/**
 * Beyond this the filter would make URLs long enough for proxies to refuse (a hook may name 300
 * types): the log is then read unfiltered and the types are picked here.
 */
export const MAX_FILTER_LENGTH = 3500;

/** The pass must stop: waiting for Okta would run past its deadline. Not a failure. */
export class DeadlineReached extends Error {
  override name = 'DeadlineReached';
}

export function isValidEventType(type: string): boolean {
  return EVENT_TYPE_PATTERN.test(type);
}

/**
 * SCIM filter for the System Log: `eventType eq "a" or eventType eq "b"`; undefined when too
 * long to send (see MAX_FILTER_LENGTH).
 */
export function eventTypeFilter(types: readonly string[]): string | undefined {
  for (const type of types) {
    if (!isValidEventType(type)) throw new Error(`"${type}" is not an Okta event type`);
  }
  const filter = [...new Set(types)]
    .sort()
    .map((type) => `eventType eq "${type}"`)
    .join(' or ');
  return filter.length > MAX_FILTER_LENGTH ? undefined : filter;
}

export interface LogQuery {
  since: Date;
  /** A bounded request; without it, a polling request. */
  until?: Date;
  filter?: string;
  limit?: number;
}

export interface LogPage {
  events: ParsedEvent[];
  /** The `rel="next"` URL, exactly as Okta gave it. */
  next: string | undefined;
}

export interface RequestOptions {
  /** Epoch ms after which no wait may end: DeadlineReached instead. */
  deadline?: number;
  signal?: AbortSignal;
}

export interface SystemLogClientDeps {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export class SystemLogClient {
  /** API requests sent (429s and retries included); token requests are counted by OktaAuth. */
  requests = 0;
  /** 429 answers received. */
  rateLimited = 0;
  /** Time spent waiting for rate limits (pacing and 429s), ms. */
  rateLimitWaitMs = 0;
  /** Latest state of each rate-limit bucket, by path. */
  readonly buckets = new Map<string, RateLimitState>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(
    readonly orgUrl: string,
    readonly auth: OktaAuth,
    /** Share (0–1] of each rate-limit bucket this client may use. */
    readonly rateLimitShare: number,
    deps: SystemLogClientDeps = {},
  ) {
    this.fetch = deps.fetch ?? fetch;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? sleep;
    this.random = deps.random ?? Math.random;
  }

  /** The first URL of a query; every later page comes from a `next` link. */
  logsUrl(query: LogQuery): string {
    const url = new URL('/api/v1/logs', this.orgUrl);
    url.searchParams.set('since', query.since.toISOString());
    if (query.until) url.searchParams.set('until', query.until.toISOString());
    url.searchParams.set('limit', String(query.limit ?? MAX_PAGE_SIZE));
    url.searchParams.set('sortOrder', 'ASCENDING');
    if (query.filter) url.searchParams.set('filter', query.filter);
    return url.toString();
  }

  /** One page of events and the link to the next. */
  async logPage(url: string, options: RequestOptions = {}): Promise<LogPage> {
    this.assertOrgUrl(url);
    const { response, text } = await this.get(url, options);
    return { events: parseLogEvents(text), next: linkUrl(response.headers.get('link'), 'next') };
  }

  /** The event types an event hook subscribes to (`events.items` of its definition). */
  async eventHookTypes(hookId: string, options: RequestOptions = {}): Promise<string[]> {
    const url = new URL(`/api/v1/eventHooks/${encodeURIComponent(hookId)}`, this.orgUrl);
    const { text } = await this.get(url.toString(), options);
    let hook: { events?: { type?: unknown; items?: unknown } };
    try {
      hook = JSON.parse(text) as typeof hook;
    } catch {
      throw new OktaApiError(`the Event Hooks API answered invalid JSON for ${hookId}`, 200, true);
    }
    const items = hook.events?.items;
    if (!Array.isArray(items) || !items.every((t) => typeof t === 'string')) {
      throw new OktaApiError(
        `event hook ${hookId} lists no event types (events.items)`,
        200,
        false,
      );
    }
    return items as string[];
  }

  /** Okta's links point at the org itself; anything else would receive our credentials. */
  assertOrgUrl(url: string): void {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      throw new OktaApiError(`a System Log link is not a URL: ${url.slice(0, 200)}`, 200, false);
    }
    if (origin !== new URL(this.orgUrl).origin) {
      throw new OktaApiError(
        `a System Log link points at ${origin}, not at the org ${this.orgUrl}: refusing to send credentials there`,
        200,
        false,
      );
    }
  }

  private async wait(
    ms: number,
    options: RequestOptions,
    why: 'rate limit' | 'retry',
  ): Promise<void> {
    if (ms <= 0) return;
    if (options.deadline !== undefined && this.now() + ms > options.deadline) {
      throw new DeadlineReached(
        `waiting ${Math.ceil(ms / 1000)} s for ${why === 'rate limit' ? 'the rate limit' : 'a retry'} would pass the deadline`,
      );
    }
    if (why === 'rate limit') this.rateLimitWaitMs += ms;
    await this.sleep(ms, options.signal);
  }

  private jitter(): number {
    return Math.floor(this.random() * 1000);
  }

  /** GET with credentials, rate-limit pacing, 429 waits and a few retries of 5xx. */
  private async get(
    url: string,
    options: RequestOptions,
  ): Promise<{ response: Response; text: string }> {
    const bucket = bucketOf(url);
    let attempts = 0;
    let waits = 0;
    let reauthorized = false;
    for (;;) {
      const pause = waitBeforeNext(this.buckets.get(bucket), this.rateLimitShare, this.now());
      if (pause > 0) await this.wait(pause + this.jitter(), options, 'rate limit');
      attempts++;
      let response: Response;
      let text: string;
      const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      try {
        const authorization = await this.auth.authorization(options.signal);
        this.requests++;
        response = await this.fetch(url, {
          headers: { Accept: 'application/json', Authorization: authorization },
          signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
          redirect: 'error',
        });
        text = await response.text();
      } catch (error) {
        if (error instanceof OktaApiError && !error.retryable) throw error;
        if (options.signal?.aborted) throw options.signal.reason;
        if (attempts >= MAX_ATTEMPTS) {
          throw error instanceof OktaApiError
            ? error
            : new OktaApiError(
                `cannot reach ${this.orgUrl}: ${networkReason(error)} (${attempts} attempts)`,
                undefined,
                true,
                { cause: error },
              );
        }
        await this.wait(1000 * 2 ** attempts + this.jitter(), options, 'retry');
        continue;
      }
      const state = rateLimitOf(response.headers, this.now());
      if (state) this.buckets.set(bucket, state);

      if (response.ok) return { response, text };
      if (response.status === 429) {
        this.rateLimited++;
        if (++waits > MAX_RATE_LIMIT_WAITS) {
          throw new OktaApiError(
            `Okta kept answering 429 (rate limited) after ${MAX_RATE_LIMIT_WAITS} waits`,
            429,
            true,
          );
        }
        const until = state ? Math.max(state.resetAtMs - this.now(), 0) : 60_000;
        await this.wait(until + 1000 + this.jitter(), options, 'rate limit');
        attempts = 0;
        continue;
      }
      if (response.status === 401 && this.auth.kind === 'privateKeyJwt' && !reauthorized) {
        // The cached access token may have been revoked: one fresh token, then give up.
        this.auth.invalidate();
        reauthorized = true;
        continue;
      }
      if (response.status >= 500 && attempts < MAX_ATTEMPTS) {
        await this.wait(1000 * 2 ** attempts + this.jitter(), options, 'retry');
        continue;
      }
      throw this.refusal(url, response, text);
    }
  }

  private refusal(url: string, response: Response, text: string): OktaApiError {
    let code = '';
    let summary = '';
    try {
      const body = JSON.parse(text) as {
        errorCode?: unknown;
        errorSummary?: unknown;
        errorCauses?: Array<{ errorSummary?: unknown }>;
      };
      if (typeof body.errorCode === 'string') code = ` ${body.errorCode}`;
      if (typeof body.errorSummary === 'string') summary = `: ${body.errorSummary}`;
      const causes = (body.errorCauses ?? [])
        .map((c) => c.errorSummary)
        .filter((s): s is string => typeof s === 'string');
      if (causes.length > 0) summary += ` (${causes.join('; ')})`;
    } catch {
      // not Okta's JSON: the status says enough
    }
    const path = new URL(url).pathname;
    const status = response.status;
    const hint =
      status === 401
        ? ` — check ${this.auth.describe()}`
        : status === 403
          ? ` — ${this.auth.describe()} may not read ${path}: ${
              this.auth.kind === 'ssws'
                ? "the token's admin needs a role that can (Read-only Administrator is enough)"
                : `grant the scope ${path.includes('/eventHooks') ? EVENT_HOOKS_SCOPE : LOGS_SCOPE} and an admin role (Read-only Administrator) to the app`
            }`
          : status === 404 && path.includes('/eventHooks/')
            ? ' — check OKTA_EVENT_HOOK_ID'
            : '';
    return new OktaApiError(
      `Okta answered ${status}${code} to GET ${path}${summary}${hint}`,
      status,
      status >= 500,
    );
  }
}

/** Rate-limit buckets are per endpoint family: the logs, or the event hooks whatever the id. */
function bucketOf(url: string): string {
  const path = new URL(url).pathname;
  return path.startsWith('/api/v1/eventHooks') ? '/api/v1/eventHooks' : path;
}
