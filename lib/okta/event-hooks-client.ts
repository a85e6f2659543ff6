/**
 * Okta's Event Hooks management API (DESIGN.md §14), for `npm run okta -- hook`:
 * `/api/v1/eventHooks` list/create, `/{id}` get/update/delete, `/{id}/lifecycle/*`.
 *
 * Authenticated like the reconciler (okta-auth.ts: SSWS, or a service app with
 * `okta.eventHooks.manage`), paced by Okta's rate-limit headers (rate-limit.ts), 429s waited
 * out. Reads are retried after a 5xx or no answer; writes are not (a create sent twice would make
 * two hooks). The secret (`authScheme.value`) is sent only in create and update bodies and never
 * appears in a message: Okta does not return it, and errors quote only Okta's error fields.
 */
import { OktaApiError } from '../errors';
import { sleep } from '../sleep';
import { type OktaAuth, networkReason } from './okta-auth';
import { type RateLimitState, rateLimitOf, waitBeforeNext } from './rate-limit';

/** Scope to create, change and delete hooks (reading needs okta.eventHooks.read or this). */
export const EVENT_HOOKS_MANAGE_SCOPE = 'okta.eventHooks.manage';
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_READ_ATTEMPTS = 3;
const MAX_RATE_LIMIT_WAITS = 10;

/** Okta's refusal, with its errorCauses kept apart (verify's say why the endpoint failed). */
export class EventHooksApiError extends OktaApiError {
  constructor(
    message: string,
    status: number,
    readonly causes: string[],
  ) {
    super(message, status, status >= 500);
  }
}

export interface OktaEventHook {
  id: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  verificationStatus: 'VERIFIED' | 'UNVERIFIED';
  created?: string;
  lastUpdated?: string;
  events: { type: string; items: string[]; filter?: unknown };
  channel: {
    type: string;
    version: string;
    config: {
      uri: string;
      headers?: Array<{ key: string; value: string }> | null;
      /** Okta returns type and key only; value is sent, never read. */
      authScheme?: { type: string; key: string; value?: string } | null;
      method?: string;
    };
  };
}

/** What create and update send. */
export interface EventHookDefinition {
  name: string;
  events: { type: 'EVENT_TYPE'; items: string[] };
  channel: {
    type: 'HTTP';
    version: '1.0.0';
    config: {
      uri: string;
      headers: Array<{ key: string; value: string }>;
      authScheme: { type: 'HEADER'; key: string; value: string };
    };
  };
}

export interface EventHooksClientDeps {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class EventHooksClient {
  /** Requests that change something (POST, PUT, DELETE). */
  writes = 0;
  requests = 0;
  private bucket: RateLimitState | undefined;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly orgUrl: string,
    readonly auth: OktaAuth,
    deps: EventHooksClientDeps = {},
  ) {
    this.fetch = deps.fetch ?? fetch;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? sleep;
  }

  list(): Promise<OktaEventHook[]> {
    return this.request<OktaEventHook[]>('GET', '');
  }

  get(id: string): Promise<OktaEventHook> {
    return this.request<OktaEventHook>('GET', `/${encodeURIComponent(id)}`);
  }

  create(definition: EventHookDefinition): Promise<OktaEventHook> {
    return this.request<OktaEventHook>('POST', '', definition);
  }

  update(id: string, definition: EventHookDefinition): Promise<OktaEventHook> {
    return this.request<OktaEventHook>('PUT', `/${encodeURIComponent(id)}`, definition);
  }

  lifecycle(id: string, action: 'activate' | 'deactivate' | 'verify'): Promise<OktaEventHook> {
    return this.request<OktaEventHook>('POST', `/${encodeURIComponent(id)}/lifecycle/${action}`);
  }

  async delete(id: string): Promise<void> {
    await this.request<void>('DELETE', `/${encodeURIComponent(id)}`);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.orgUrl}/api/v1/eventHooks${path}`;
    const write = method !== 'GET';
    let attempts = 0;
    let waits = 0;
    let reauthorized = false;
    for (;;) {
      const pause = waitBeforeNext(this.bucket, 1, this.now());
      if (pause > 0) await this.sleep(pause);
      attempts++;
      let response: Response;
      let text: string;
      try {
        const authorization = await this.auth.authorization();
        this.requests++;
        if (write) this.writes++;
        response = await this.fetch(url, {
          method,
          headers: {
            Accept: 'application/json',
            Authorization: authorization,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          redirect: 'error',
        });
        text = await response.text();
      } catch (error) {
        if (error instanceof OktaApiError) throw error;
        if (!write && attempts < MAX_READ_ATTEMPTS) {
          await this.sleep(1000 * 2 ** attempts);
          continue;
        }
        throw new OktaApiError(
          `cannot reach ${this.orgUrl}: ${networkReason(error)}`,
          undefined,
          true,
          { cause: error },
        );
      }
      this.bucket = rateLimitOf(response.headers, this.now()) ?? this.bucket;
      if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
      if (response.status === 429 && ++waits <= MAX_RATE_LIMIT_WAITS) {
        const until = this.bucket ? Math.max(this.bucket.resetAtMs - this.now(), 0) : 60_000;
        await this.sleep(until + 1000);
        continue;
      }
      if (response.status === 401 && this.auth.kind === 'privateKeyJwt' && !reauthorized) {
        this.auth.invalidate();
        reauthorized = true;
        continue;
      }
      if (response.status >= 500 && !write && attempts < MAX_READ_ATTEMPTS) {
        await this.sleep(1000 * 2 ** attempts);
        continue;
      }
      throw this.refusal(method, path, response.status, text);
    }
  }

  private refusal(method: string, path: string, status: number, text: string): OktaApiError {
    let detail = '';
    let causes: string[] = [];
    try {
      const body = JSON.parse(text) as {
        errorCode?: unknown;
        errorSummary?: unknown;
        errorCauses?: Array<{ errorSummary?: unknown }>;
      };
      if (typeof body.errorCode === 'string') detail += ` ${body.errorCode}`;
      if (typeof body.errorSummary === 'string') detail += `: ${body.errorSummary}`;
      causes = (body.errorCauses ?? [])
        .map((c) => c.errorSummary)
        .filter((s): s is string => typeof s === 'string');
      if (causes.length > 0) detail += ` (${causes.join('; ')})`;
    } catch {
      // not Okta's JSON: the status says enough
    }
    const hint =
      status === 401
        ? ` — check ${this.auth.describe()}`
        : status === 403
          ? ` — ${this.auth.describe()} may not ${method === 'GET' ? 'read' : 'manage'} event hooks: ${
              this.auth.kind === 'ssws'
                ? "the token's admin needs the Super Administrator role"
                : `grant the scope ${EVENT_HOOKS_MANAGE_SCOPE} and the Super Administrator role to the app`
            }`
          : status === 404 && path !== ''
            ? ' — check OKTA_EVENT_HOOK_ID'
            : '';
    return new EventHooksApiError(
      `Okta answered ${status}${detail} to ${method} /api/v1/eventHooks${path}${hint}`,
      status,
      causes,
    );
  }
}
