/**
 * A fake Okta org over real HTTP, for `npm run okta -- serve` and the tests: enough of Okta's
 * management API for the reconciler (DESIGN.md §8), with Okta's behaviour where it matters.
 *
 * - `GET /api/v1/logs`: polling requests (`since`, no `until`: by persistence time, `next` link
 *   always, also on an empty page) and bounded ones (`since` + `until`: by `published`, no `next`
 *   on the last page); opaque `after` cursors; `since` with `after` refused (400); `filter`
 *   (`eventType eq "…"` joined with `or`); `Link` headers as separate lines or joined; rate limits
 *   with `X-Rate-Limit-*` headers and 429 E0000047 when a window is used up, or on demand.
 * - `POST /oauth2/v1/token`: client credentials with `private_key_jwt`: checks the assertion's
 *   RS256 signature against the app's registered public key, `iss` = `sub` = client id, `aud` =
 *   this org's token URL, `exp` in the future and at most an hour away, `jti` never reused, and
 *   the scopes granted to the app.
 * - `GET /api/v1/eventHooks/{id}`: the hook's definition with `events.items`.
 * - `POST /_simulator/events`: the simulator records events in the System Log (send --org).
 *
 * Events are kept as the exact JSON text they were added with, so a test can compare what the
 * reconciler stored byte for byte.
 */
import { type KeyObject, createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arrayElementTexts } from '../okta/json-text';

export const FAKE_ORG_DEFAULT_PORT = 7070;
const DAY_MS = 86_400_000;
/** Okta keeps the System Log 90 days and refuses a `since` older than 180. */
const RETENTION_MS = 90 * DAY_MS;
const MAX_SINCE_AGE_MS = 180 * DAY_MS;
/** Without `since`, Okta starts seven days back. */
const DEFAULT_SINCE_MS = 7 * DAY_MS;
const MAX_ASSERTION_LIFETIME_S = 3600;
const LOGS_SCOPE = 'okta.logs.read';
const EVENT_HOOKS_SCOPE = 'okta.eventHooks.read';

export interface FakeOrgClient {
  clientId: string;
  /** The app's registered public key (a private key is accepted too: its public half is used). */
  publicKey: KeyObject | string;
  keyId?: string;
  /** Scopes granted to the app; default okta.logs.read and okta.eventHooks.read. */
  scopes?: string[];
}

export interface FakeOrgOptions {
  port?: number;
  host?: string;
  /** Accepted SSWS API token; none means only OAuth access tokens are accepted. */
  apiToken?: string;
  clients?: FakeOrgClient[];
  /** Requests per window of each bucket (logs, event hooks); default 60 a minute. */
  rateLimit?: { limit: number; windowMs: number };
  /** `lines`: one Link header line per link (Okta's usual); `joined`: one comma-joined line. */
  linkStyle?: 'lines' | 'joined';
  /** Event hook id → the event types it subscribes to. */
  eventHooks?: Record<string, string[]>;
  accessTokenLifetimeSeconds?: number;
  now?: () => number;
  /** One line per request (serve prints them). */
  onRequest?: (line: string) => void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** `ssws`, `bearer`, or undefined for none. */
  auth: 'ssws' | 'bearer' | undefined;
  status: number;
  at: number;
  /** Events returned (logs). */
  events?: number;
  /** Why a token request or API request was refused. */
  refusal?: string;
}

interface StoredEvent {
  text: string;
  uuid: string;
  eventType: string;
  publishedMs: number;
  persistedMs: number;
  seq: number;
}

interface AccessToken {
  scopes: Set<string>;
  expiresAt: number;
}

export interface FakeOrg {
  url: string;
  port: number;
  /** Every request, in order. */
  readonly requests: RecordedRequest[];
  /**
   * Records events in the System Log, persisted now (late events are events published earlier),
   * or at `persistedAtMs` for history that was already there (never before an earlier event).
   */
  addEvents(events: ReadonlyArray<string | object>, persistedAtMs?: number): void;
  /** The exact JSON text of every event in the log, in persistence order. */
  eventTexts(): string[];
  /**
   * The next `count` logs requests are answered `status` (429 with rate-limit headers, 5xx);
   * `bare` leaves the rate-limit headers out, as a proxy in front of Okta might.
   */
  failNext(status: number, count?: number, options?: { bare?: boolean }): void;
  /**
   * Misbehaviour on demand: the `next` link of a logs page is replaced by what this answers
   * (another origin, the page itself), or left alone when it answers undefined.
   */
  rewriteNextLink: ((next: string, self: string) => string | undefined) | undefined;
  linkStyle: 'lines' | 'joined';
  rateLimit: { limit: number; windowMs: number };
  readonly eventHooks: Map<string, string[]>;
  stop(): Promise<void>;
}

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.errorSummary ?? body.error_description ?? body.error ?? status));
  }
}

function oktaError(status: number, code: string, summary: string, causes: string[] = []) {
  return new HttpRefusal(status, {
    errorCode: code,
    errorSummary: summary,
    errorLink: code,
    errorId: `oae${randomBytes(11).toString('base64url')}`,
    errorCauses: causes.map((errorSummary) => ({ errorSummary })),
  });
}

function oauthError(status: number, error: string, description: string) {
  return new HttpRefusal(status, { error, error_description: description });
}

function toPublicKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key.type === 'public' ? key : createPublicKey(key);
  const trimmed = key.trim();
  if (trimmed.startsWith('{')) {
    return createPublicKey({
      key: JSON.parse(trimmed) as import('node:crypto').JsonWebKey,
      format: 'jwk',
    });
  }
  return createPublicKey(trimmed);
}

/** `eventType eq "a" or eventType eq "b"`, optionally in parentheses; undefined = no filter. */
export function parseEventTypeFilter(filter: string | null): Set<string> | undefined {
  if (filter === null) return undefined;
  let text = filter.trim();
  while (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1).trim();
  const types = new Set<string>();
  for (const term of text.split(/\s+or\s+/i)) {
    const match = /^\(?\s*eventType\s+eq\s+"([^"\\]+)"\s*\)?$/i.exec(term.trim());
    if (!match) {
      throw oktaError(400, 'E0000031', 'Invalid search criteria.', [
        `The fake org understands only eventType eq "…" terms joined with or: ${term.slice(0, 80)}`,
      ]);
    }
    types.add(match[1]!);
  }
  return types;
}

function parseTime(value: string, name: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw oktaError(400, 'E0000001', 'Api validation failed: ' + name, [
      `${name}: The date format is invalid. It must be ISO 8601.`,
    ]);
  }
  return ms;
}

/** `after` cursors: opaque to clients (they only follow links), `<ms>_<seq>` here as at Okta. */
function parseAfter(value: string): { ms: number; seq: number } {
  const match = /^(\d+)_(\d+)$/.exec(value);
  if (!match) {
    throw oktaError(400, 'E0000001', 'Api validation failed: after', [
      'after: The cursor is invalid.',
    ]);
  }
  return { ms: Number(match[1]), seq: Number(match[2]) };
}

export async function startFakeOktaOrg(options: FakeOrgOptions = {}): Promise<FakeOrg> {
  const now = options.now ?? Date.now;
  const events: StoredEvent[] = [];
  const requests: RecordedRequest[] = [];
  const tokens = new Map<string, AccessToken>();
  const usedJtis = new Set<string>();
  const windows = new Map<string, { start: number; used: number }>();
  const failures: Array<{ status: number; bare: boolean }> = [];
  const clients = new Map(
    (options.clients ?? []).map((c) => [
      c.clientId,
      {
        key: toPublicKey(c.publicKey),
        keyId: c.keyId,
        scopes: new Set(c.scopes ?? [LOGS_SCOPE, EVENT_HOOKS_SCOPE]),
      },
    ]),
  );
  let seq = 0;
  let lastPersisted = 0;

  const org = {
    requests,
    linkStyle: options.linkStyle ?? 'lines',
    rateLimit: options.rateLimit ?? { limit: 60, windowMs: 60_000 },
    eventHooks: new Map(Object.entries(options.eventHooks ?? {})),
    rewriteNextLink: undefined as FakeOrg['rewriteNextLink'],
    addEvents(list: ReadonlyArray<string | object>, persistedAtMs?: number) {
      for (const item of list) {
        const text = typeof item === 'string' ? item : JSON.stringify(item);
        const event = JSON.parse(text) as { uuid: string; eventType: string; published: string };
        // Persistence times only go up, even when two events arrive in the same millisecond.
        lastPersisted = Math.max(persistedAtMs ?? now(), lastPersisted);
        events.push({
          text,
          uuid: event.uuid,
          eventType: event.eventType,
          publishedMs: Date.parse(event.published),
          persistedMs: lastPersisted,
          seq: ++seq,
        });
      }
    },
    eventTexts: () => events.map((e) => e.text),
    failNext(status: number, count = 1, failure: { bare?: boolean } = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, bare: failure.bare === true });
    },
  };

  function rateLimitHeaders(bucket: string, consume: boolean): Record<string, string> {
    const { limit, windowMs } = org.rateLimit;
    const t = now();
    let window = windows.get(bucket);
    if (!window || t >= window.start + windowMs) {
      window = { start: Math.floor(t / windowMs) * windowMs, used: 0 };
      windows.set(bucket, window);
    }
    if (consume) window.used++;
    return {
      'X-Rate-Limit-Limit': String(limit),
      'X-Rate-Limit-Remaining': String(Math.max(limit - window.used, 0)),
      'X-Rate-Limit-Reset': String(Math.ceil((window.start + windowMs) / 1000)),
    };
  }

  function checkRateLimit(bucket: string): Record<string, string> {
    const window = windows.get(bucket);
    const headers = rateLimitHeaders(bucket, false);
    if (
      window &&
      window.used >= org.rateLimit.limit &&
      now() < window.start + org.rateLimit.windowMs
    ) {
      throw rateLimited(headers);
    }
    return rateLimitHeaders(bucket, true);
  }

  function rateLimited(headers: Record<string, string>): HttpRefusal {
    const refusal = oktaError(
      429,
      'E0000047',
      'API call exceeded rate limit due to too many requests.',
    );
    return new HttpRefusal(429, refusal.body, { ...headers, 'X-Rate-Limit-Remaining': '0' });
  }

  function authenticate(req: IncomingMessage, scope: string): 'ssws' | 'bearer' {
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(/\s+/, 2);
    if (scheme === 'SSWS' && options.apiToken !== undefined) {
      const given = Buffer.from(value);
      const expected = Buffer.from(options.apiToken);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return 'ssws';
    }
    if (scheme === 'Bearer') {
      const token = tokens.get(value);
      if (token && token.expiresAt > now()) {
        if (!token.scopes.has(scope)) {
          throw new HttpRefusal(
            403,
            oktaError(403, 'E0000006', 'You do not have permission to perform the requested action')
              .body,
            { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
          );
        }
        return 'bearer';
      }
    }
    throw oktaError(401, 'E0000011', 'Invalid token provided');
  }

  function baseUrl(req: IncomingMessage): string {
    return `http://${req.headers.host ?? `127.0.0.1:${port}`}`;
  }

  function logs(req: IncomingMessage, query: URLSearchParams, record: RecordedRequest) {
    const headers = checkRateLimit('/api/v1/logs');
    const injected = failures.shift();
    if (injected?.status === 429 && injected.bare) {
      throw oktaError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');
    }
    if (injected?.status === 429) throw rateLimited(headers);
    if (injected !== undefined) {
      throw new HttpRefusal(
        injected.status,
        oktaError(injected.status, 'E0000009', 'Internal Server Error').body,
        injected.bare ? {} : headers,
      );
    }
    record.auth = authenticate(req, LOGS_SCOPE);

    const since = query.get('since');
    const until = query.get('until');
    const after = query.get('after');
    if (since !== null && after !== null) {
      throw oktaError(400, 'E0000001', 'Api validation failed: after', [
        'after: The after parameter cannot be used together with since.',
      ]);
    }
    const limitText = query.get('limit') ?? '100';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 1000) {
      throw oktaError(400, 'E0000001', 'Api validation failed: limit', [
        'limit: The limit must be between 0 and 1000.',
      ]);
    }
    const sortOrder = query.get('sortOrder') ?? 'ASCENDING';
    if (sortOrder !== 'ASCENDING') {
      throw oktaError(400, 'E0000001', 'Api validation failed: sortOrder', [
        'sortOrder: the fake org serves ASCENDING only.',
      ]);
    }
    const sinceMs = since === null ? undefined : parseTime(since, 'since');
    const untilMs = until === null ? undefined : parseTime(until, 'until');
    if (sinceMs !== undefined && sinceMs < now() - MAX_SINCE_AGE_MS) {
      throw oktaError(400, 'E0000001', 'Api validation failed: since', [
        'since: The since parameter cannot be more than 180 days in the past.',
      ]);
    }
    const types = parseEventTypeFilter(query.get('filter'));
    const cursor = after === null ? undefined : parseAfter(after);
    const oldest = now() - RETENTION_MS;
    // An event whose `published` is not a time (NaN) is kept, as Okta would keep it.
    const wanted = (e: StoredEvent) =>
      !(e.publishedMs < oldest) && (types === undefined || types.has(e.eventType));

    let page: StoredEvent[];
    let nextAfter: string | undefined;
    if (untilMs === undefined) {
      // Polling: by persistence; the cursor moves past everything scanned, matching or not.
      page = [];
      let last: StoredEvent | undefined;
      for (const e of events) {
        if (cursor ? e.seq <= cursor.seq : e.persistedMs < (sinceMs ?? now() - DEFAULT_SINCE_MS)) {
          continue;
        }
        if (page.length >= limit) break;
        last = e;
        if (wanted(e)) page.push(e);
      }
      if (last) nextAfter = `${last.persistedMs}_${last.seq}`;
      else if (cursor) nextAfter = after!;
      else nextAfter = `${lastPersisted}_${seq}`;
    } else {
      // Bounded: by published, then persistence; no next link once the window is exhausted.
      const key = (e: StoredEvent) => [e.publishedMs, e.seq] as const;
      const matching = events
        .filter(
          (e) =>
            wanted(e) &&
            e.publishedMs < untilMs &&
            (sinceMs === undefined || e.publishedMs >= sinceMs) &&
            (!cursor ||
              key(e)[0] > cursor.ms ||
              (key(e)[0] === cursor.ms && key(e)[1] > cursor.seq)),
        )
        .sort((a, b) => a.publishedMs - b.publishedMs || a.seq - b.seq);
      page = matching.slice(0, limit);
      const last = page.at(-1);
      if (matching.length > page.length && last) nextAfter = `${last.publishedMs}_${last.seq}`;
    }

    const self = new URL(req.url ?? '/', baseUrl(req)).toString();
    const links = [`<${self}>; rel="self"`];
    if (nextAfter !== undefined) {
      const next = new URL('/api/v1/logs', baseUrl(req));
      for (const [name, value] of query)
        if (name !== 'since' && name !== 'after') next.searchParams.append(name, value);
      next.searchParams.set('after', nextAfter);
      const link = org.rewriteNextLink?.(next.toString(), self) ?? next.toString();
      links.push(`<${link}>; rel="next"`);
    }
    record.events = page.length;
    return {
      status: 200,
      headers: { ...headers, Link: org.linkStyle === 'joined' ? links.join(', ') : links },
      body: `[${page.map((e) => e.text).join(',')}]`,
    };
  }

  function eventHook(req: IncomingMessage, id: string, record: RecordedRequest) {
    const headers = checkRateLimit('/api/v1/eventHooks');
    record.auth = authenticate(req, EVENT_HOOKS_SCOPE);
    const types = org.eventHooks.get(id);
    if (!types) {
      throw oktaError(404, 'E0000007', `Not found: Resource not found: ${id} (EventHook)`);
    }
    return {
      status: 200,
      headers,
      body: JSON.stringify({
        id,
        status: 'ACTIVE',
        verificationStatus: 'VERIFIED',
        name: 'Event hook',
        events: { type: 'EVENT_TYPE', items: types },
        channel: { type: 'HTTP', version: '1.0.0', config: { uri: 'https://example.com/hook' } },
      }),
    };
  }

  function verifyAssertion(req: IncomingMessage, assertion: string): string {
    const invalid = (why: string) => oauthError(401, 'invalid_client', why);
    const parts = assertion.split('.');
    if (parts.length !== 3) throw invalid('The client_assertion token is malformed.');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    let header: { alg?: unknown; kid?: unknown };
    let claims: { iss?: unknown; sub?: unknown; aud?: unknown; exp?: unknown; jti?: unknown };
    try {
      header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
    } catch {
      throw invalid('The client_assertion token is malformed.');
    }
    if (header.alg !== 'RS256') {
      throw invalid('The client_assertion token has an unsupported signature algorithm.');
    }
    const client = typeof claims.iss === 'string' ? clients.get(claims.iss) : undefined;
    if (!client) throw invalid('The client_id is invalid (iss).');
    if (claims.sub !== claims.iss)
      throw invalid("The client_assertion token's sub must equal its iss.");
    if (header.kid !== undefined && client.keyId !== undefined && header.kid !== client.keyId) {
      throw invalid('The client_assertion token has a kid that matches no key of the app.');
    }
    const signed = verify(
      'sha256',
      Buffer.from(`${headerPart}.${payloadPart}`),
      client.key,
      Buffer.from(signaturePart, 'base64url'),
    );
    if (!signed) throw invalid('The client_assertion signature is invalid.');
    if (claims.aud !== `${baseUrl(req)}/oauth2/v1/token`) {
      throw invalid(
        `The audience of the client_assertion token is invalid: it must be ${baseUrl(req)}/oauth2/v1/token.`,
      );
    }
    const nowS = Math.floor(now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) {
      throw invalid('The client_assertion token is expired.');
    }
    if (claims.exp > nowS + MAX_ASSERTION_LIFETIME_S) {
      throw invalid('The client_assertion token has an expiration too far into the future.');
    }
    if (typeof claims.jti === 'string') {
      if (usedJtis.has(claims.jti))
        throw invalid('The client_assertion token has already been used (jti).');
      usedJtis.add(claims.jti);
    }
    return claims.iss as string;
  }

  function token(req: IncomingMessage, body: string) {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      throw oauthError(
        400,
        'unsupported_grant_type',
        'The fake org supports client_credentials only.',
      );
    }
    if (
      form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
    ) {
      throw oauthError(
        401,
        'invalid_client',
        'Client authentication with private_key_jwt is required.',
      );
    }
    const clientId = verifyAssertion(req, form.get('client_assertion') ?? '');
    const granted = clients.get(clientId)!.scopes;
    const asked = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const refused = asked.filter((s) => !granted.has(s));
    if (asked.length === 0 || refused.length > 0) {
      throw oauthError(
        400,
        'invalid_scope',
        asked.length === 0
          ? 'The authorization server requires a scope.'
          : `The following scopes are not allowed: ${refused.join(', ')}`,
      );
    }
    const accessToken = randomBytes(32).toString('base64url');
    const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
    tokens.set(accessToken, { scopes: new Set(asked), expiresAt: now() + lifetime * 1000 });
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: JSON.stringify({
        token_type: 'Bearer',
        expires_in: lifetime,
        access_token: accessToken,
        scope: asked.join(' '),
      }),
    };
  }

  function simulatorEvents(body: string) {
    const texts = arrayElementTexts(body, []);
    if (!texts)
      throw oktaError(400, 'E0000003', 'The request body was not a JSON array of events.');
    org.addEvents(texts);
    return { status: 204, headers: {}, body: '' };
  }

  function route(req: IncomingMessage, body: string, record: RecordedRequest) {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'GET' && url.pathname === '/api/v1/logs')
      return logs(req, url.searchParams, record);
    const hook = /^\/api\/v1\/eventHooks\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && hook) return eventHook(req, decodeURIComponent(hook[1]!), record);
    if (req.method === 'POST' && url.pathname === '/oauth2/v1/token') return token(req, body);
    if (req.method === 'POST' && url.pathname === '/_simulator/events')
      return simulatorEvents(body);
    throw oktaError(
      404,
      'E0000022',
      `The endpoint does not support the provided HTTP method (fake org: ${req.method} ${url.pathname})`,
    );
  }

  function send(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | string[]>,
    body: string,
  ) {
    res.writeHead(status, {
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    });
    res.end(body);
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        auth: undefined,
        status: 0,
        at: now(),
      };
      try {
        const answer = route(req, Buffer.concat(chunks).toString('utf8'), record);
        record.status = answer.status;
        send(res, answer.status, answer.headers, answer.body);
      } catch (error) {
        const refusal =
          error instanceof HttpRefusal
            ? error
            : oktaError(500, 'E0000009', 'Internal Server Error');
        record.status = refusal.status;
        record.refusal = refusal.message;
        send(res, refusal.status, refusal.headers, JSON.stringify(refusal.body));
      }
      if (!url.pathname.startsWith('/_simulator')) requests.push(record);
      options.onRequest?.(describeRequest(record));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(org, {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function describeRequest(r: RecordedRequest): string {
  const parts = [new Date(r.at).toISOString().slice(11, 19), r.method, r.path, String(r.status)];
  if (r.events !== undefined) parts.push(`${r.events} events`);
  const after = r.query.get('after');
  if (r.path === '/api/v1/logs')
    parts.push(after ? `after=${after}` : `since=${r.query.get('since')}`);
  if (r.refusal) parts.push(r.refusal);
  return parts.join(' ');
}
