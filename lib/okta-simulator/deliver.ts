/**
 * Sends requests the way Okta (or Hookdeck forwarding Okta) does, with Okta's delivery rules
 * (DESIGN.md §2): 3 s timeout, one retry after a timeout or a 5xx, none after a 4xx.
 * `deliver` is the one delivery path of the simulator (send, preview, and later replay).
 */
import { randomBytes } from 'node:crypto';
import { hookdeckSignature } from '../http/auth';

/** Okta waits this long for an answer, to the verification GET and to each delivery. */
export const OKTA_TIMEOUT_MS = 3000;
export const DEFAULT_AUTH_HEADER = 'Authorization';
const HOOKDECK_SOURCE_NAME = 'okta';
/** A stand-in for the Okta address Hookdeck received the request from (not a checked Okta IP). */
const OKTA_EGRESS_IP = '52.37.187.104';
/** Enough of a response body to explain a refusal. */
const MAX_BODY_KEPT = 2000;

export interface RequestSpec {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface SenderOptions {
  /** The hook's Authentication secret; no auth header is sent without one. */
  secret?: string;
  /** The hook's Authentication field. */
  authHeader?: string;
  /** Okta's timeout; only tests shorten it. */
  timeoutMs?: number;
  /** The hook's custom headers, sent on every request. */
  extraHeaders?: ReadonlyArray<{ key: string; value: string }>;
}

export interface DeliverOptions extends SenderOptions {
  /** Deliver as Hookdeck forwards an Okta request: Okta's headers plus Hookdeck's, signed. */
  viaHookdeck?: boolean;
  signingSecret?: string;
}

export interface Attempt {
  /** HTTP status; undefined when no answer came. */
  status?: number;
  contentType?: string;
  body?: string;
  /** Why no answer came: `timeout` or a network error such as `ECONNREFUSED`. */
  error?: string;
  latencyMs: number;
}

export type Outcome = 'accepted' | 'refused' | 'failed';

export interface DeliveryResult {
  /** accepted: 2xx. refused: any other answer Okta does not retry (4xx). failed: no 2xx after the retry. */
  outcome: Outcome;
  attempts: Attempt[];
  /** From the first byte sent to the final answer, retry included. */
  latencyMs: number;
}

/** Okta request ids look like `ZCCzm8j2wTvzwele2NwLnwAADSc`. */
export function oktaRequestId(): string {
  return randomBytes(21).toString('base64url').slice(0, 27);
}

/** The headers Okta puts on every request of an event hook. */
export function oktaHeaders(
  options: SenderOptions,
  method: 'GET' | 'POST',
): Record<string, string> {
  return {
    ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
    Accept: 'application/json',
    'User-Agent': 'Okta-Integrations',
    'X-Okta-Request-Id': oktaRequestId(),
    ...Object.fromEntries((options.extraHeaders ?? []).map(({ key, value }) => [key, value])),
    ...(options.secret === undefined
      ? {}
      : { [options.authHeader ?? DEFAULT_AUTH_HEADER]: options.secret }),
  };
}

function hookdeckId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url').replace(/[-_]/g, '').slice(0, 22)}`;
}

/** One Hookdeck event (an Okta request Hookdeck received); its attempts share the ids. */
export interface HookdeckEvent {
  eventId: string;
  requestId: string;
}

export function newHookdeckEvent(): HookdeckEvent {
  return { eventId: hookdeckId('evt'), requestId: hookdeckId('req') };
}

/** What Hookdeck adds when it forwards a request (DESIGN.md §3). */
export function hookdeckHeaders(
  body: string,
  signingSecret: string,
  event: HookdeckEvent,
  attempt: number,
): Record<string, string> {
  return {
    'x-hookdeck-eventid': event.eventId,
    'x-hookdeck-requestid': event.requestId,
    'x-hookdeck-source-name': HOOKDECK_SOURCE_NAME,
    'x-hookdeck-attempt-count': String(attempt),
    'x-hookdeck-verified': 'true',
    'x-hookdeck-original-ip': OKTA_EGRESS_IP,
    'idempotency-key': event.eventId,
    'x-hookdeck-signature': hookdeckSignature(Buffer.from(body, 'utf8'), signingSecret),
  };
}

/** The request of one delivery attempt. Okta's request id is new per attempt; the body is not. */
export function deliveryRequest(
  url: string,
  body: string,
  options: DeliverOptions,
  hookdeck?: { event: HookdeckEvent; attempt: number },
): RequestSpec {
  const headers = oktaHeaders(options, 'POST');
  if (options.viaHookdeck) {
    if (options.signingSecret === undefined) throw new Error('viaHookdeck needs a signingSecret');
    Object.assign(
      headers,
      hookdeckHeaders(
        body,
        options.signingSecret,
        hookdeck?.event ?? newHookdeckEvent(),
        hookdeck?.attempt ?? 1,
      ),
    );
  }
  return { method: 'POST', url, headers, body };
}

function networkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** One HTTP exchange, cut off after `timeoutMs` (headers and body both count, as for Okta). */
export async function attemptRequest(spec: RequestSpec, timeoutMs: number): Promise<Attempt> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const latency = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(spec.url, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      signal: controller.signal,
      redirect: 'manual', // Okta does not follow redirects
    });
    const body = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? undefined,
      body: body.slice(0, MAX_BODY_KEPT),
      latencyMs: latency(),
    };
  } catch (error) {
    return {
      error: controller.signal.aborted ? 'timeout' : networkError(error),
      latencyMs: latency(),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Okta retries once after a timeout (or no answer at all) or a 5xx, never after a 4xx. */
export function oktaWouldRetry(attempt: Attempt): boolean {
  return attempt.status === undefined || attempt.status >= 500;
}

/** Runs Okta's attempt-and-maybe-retry-once; `request(n)` builds attempt n (1 or 2). */
export async function withOktaRetry(
  request: (attempt: number) => RequestSpec,
  timeoutMs = OKTA_TIMEOUT_MS,
): Promise<{ attempts: Attempt[]; latencyMs: number }> {
  const started = performance.now();
  const attempts = [await attemptRequest(request(1), timeoutMs)];
  if (oktaWouldRetry(attempts[0]!)) attempts.push(await attemptRequest(request(2), timeoutMs));
  return { attempts, latencyMs: Math.round(performance.now() - started) };
}

export function outcomeOf(last: Attempt): Outcome {
  if (last.status !== undefined && last.status >= 200 && last.status < 300) return 'accepted';
  return oktaWouldRetry(last) ? 'failed' : 'refused';
}

/** Delivers one body as Okta would (or as Hookdeck forwards it), retrying by Okta's rules. */
export async function deliver(
  url: string,
  body: string,
  options: DeliverOptions = {},
): Promise<DeliveryResult> {
  // Hookdeck retries the same Hookdeck event: same ids, attempt count going up.
  const event = newHookdeckEvent();
  const { attempts, latencyMs } = await withOktaRetry(
    (attempt) => deliveryRequest(url, body, options, { event, attempt }),
    options.timeoutMs,
  );
  return { outcome: outcomeOf(attempts[attempts.length - 1]!), attempts, latencyMs };
}

/** The exact request, as `--dry-run` shows it: method, URL, headers, body. */
export function formatRequest(spec: RequestSpec): string {
  const lines = [`${spec.method} ${spec.url}`];
  for (const [name, value] of Object.entries(spec.headers)) lines.push(`${name}: ${value}`);
  return spec.body === undefined ? lines.join('\n') : `${lines.join('\n')}\n\n${spec.body}`;
}

/** `503`, `timeout`, `ECONNREFUSED`: what one attempt got, in a word. */
export function describeAttempt(attempt: Attempt): string {
  return attempt.status === undefined ? (attempt.error ?? 'no answer') : String(attempt.status);
}
