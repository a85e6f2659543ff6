/**
 * A fake Okta org over real HTTP, for `npm run okta -- serve` and the tests: enough of Okta's
 * management API for the reconciler (DESIGN.md §8), with Okta's behaviour where it matters.
 *
 * - `GET /api/v1/logs`: the System Log (system-log-api.ts), with `Link` headers as separate
 *   lines or joined, and rate limits with `X-Rate-Limit-*` headers and 429 E0000047 when a window
 *   is used up, or on demand.
 * - `POST /oauth2/v1/token`: client credentials with `private_key_jwt`: checks the assertion's
 *   RS256 signature against the app's registered public key, `iss` = `sub` = client id, `aud` =
 *   this org's token URL, `exp` in the future and at most an hour away, `jti` never reused, and
 *   the scopes granted to the app.
 * - `/api/v1/eventHooks`: Okta's Event Hooks API and its deliveries (event-hooks-api.ts), with
 *   scopes `okta.eventHooks.read` (GET) and `okta.eventHooks.manage` (everything), or SSWS.
 * - `/oauth2/default`: the custom authorization server that signs people in
 *   (authorization-server.ts), and its key rotation at
 *   `/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate`.
 * - `POST /_simulator/events`: the simulator records events in the System Log (send --org);
 *   with `?deliver=true` they are then delivered to the org's event hooks too, as emit does.
 * - `POST /_simulator/emit`: events happen in the org: recorded in the System Log, then
 *   delivered to its event hooks (emit).
 */
import { type KeyObject, createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arrayElementTexts } from '../okta/json-text';
import {
  FakeAuthorizationServer,
  type FakeAuthorizationServerOptions,
} from './authorization-server';
import { FakeEventHooks } from './event-hooks-api';
import { FakeSystemLog } from './system-log-api';
import { EVENT_TYPES, type EventType, type LogEvent, isEventType, oktaEvents } from './events';
import { HttpRefusal, oauthError, oktaError } from './okta-errors';
import type { EmitResult } from './system-log-recorder';

export {
  DEFAULT_EVENT_BROWSER_APP,
  DEFAULT_FAKE_USERS,
  type FakeOidcApp,
  type FakeUser,
} from './authorization-server';
export type { EmitResult } from './system-log-recorder';

export const FAKE_ORG_DEFAULT_PORT = 7070;
const MAX_ASSERTION_LIFETIME_S = 3600;
const LOGS_SCOPE = 'okta.logs.read';
const EVENT_HOOKS_SCOPE = 'okta.eventHooks.read';
const EVENT_HOOKS_MANAGE_SCOPE = 'okta.eventHooks.manage';
const AUTHORIZATION_SERVERS_MANAGE_SCOPE = 'okta.authorizationServers.manage';
/** Fastest steady rate `emit` paces deliveries at, events a second. */
const MAX_EMIT_RATE = 1000;

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
  /** Event hooks already there, ACTIVE and VERIFIED: id → the event types it subscribes to. */
  eventHooks?: Record<string, string[]>;
  /** Okta's timeout for verification and deliveries (3 s); only tests shorten it. */
  hookTimeoutMs?: number;
  accessTokenLifetimeSeconds?: number;
  now?: () => number;
  /** The custom authorization server `default`: its users, apps, and automatic login. */
  authorizationServer?: FakeAuthorizationServerOptions;
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

export interface EmitRequest {
  types: EventType[];
  count: number;
  /** Events per delivery (default 1). */
  perRequest?: number;
  /** Steady rate, events a second; default as fast as the endpoints answer. */
  ratePerSecond?: number;
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
  /** The Event Hooks API's hooks (secrets included: the API never returns them). */
  readonly hooks: FakeEventHooks;
  /** The custom authorization server at `${url}/oauth2/default`. */
  readonly authorizationServer: FakeAuthorizationServer;
  /** Events happen in the org: System Log, then delivery to the hooks (see emit). */
  emit(request: EmitRequest): Promise<EmitResult>;
  stop(): Promise<void>;
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

export async function startFakeOktaOrg(options: FakeOrgOptions = {}): Promise<FakeOrg> {
  const now = options.now ?? Date.now;
  const systemLog = new FakeSystemLog(now);
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

  const org = {
    requests,
    linkStyle: options.linkStyle ?? 'lines',
    rateLimit: options.rateLimit ?? { limit: 60, windowMs: 60_000 },
    addEvents: (list: ReadonlyArray<string | object>, persistedAtMs?: number) =>
      systemLog.addEvents(list, persistedAtMs),
    eventTexts: () => systemLog.eventTexts(),
    rewriteNextLink: undefined as FakeOrg['rewriteNextLink'],
    failNext(status: number, count = 1, failure: { bare?: boolean } = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, bare: failure.bare === true });
    },
  };

  const hooks = new FakeEventHooks({
    now,
    addToSystemLog: (list) => org.addEvents(list),
    timeoutMs: options.hookTimeoutMs,
  });
  for (const [id, types] of Object.entries(options.eventHooks ?? {})) hooks.seed(id, types);
  const authorizationServer = new FakeAuthorizationServer(options.authorizationServer ?? {}, {
    now,
    verifyClientAssertion: (req, assertion, audience) => verifyAssertion(req, assertion, audience),
  });

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

  /** SSWS, or a bearer token holding one of `scopes` (the first is named in a refusal). */
  function authenticate(req: IncomingMessage, ...scopes: string[]): 'ssws' | 'bearer' {
    const scope = scopes[0]!;
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
        if (!scopes.some((s) => token.scopes.has(s))) {
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

    const page = systemLog.query(
      query,
      new URL(req.url ?? '/', baseUrl(req)),
      baseUrl(req),
      org.rewriteNextLink,
    );
    const links = org.linkStyle === 'joined' ? page.links.join(', ') : page.links;
    record.events = page.count;
    return { status: 200, headers: { ...headers, Link: links }, body: page.body };
  }

  async function eventHooksApi(
    req: IncomingMessage,
    path: string,
    body: string,
    record: RecordedRequest,
  ) {
    const headers = checkRateLimit('/api/v1/eventHooks');
    // Reading needs okta.eventHooks.read or .manage; anything else .manage.
    record.auth =
      req.method === 'GET'
        ? authenticate(req, EVENT_HOOKS_SCOPE, EVENT_HOOKS_MANAGE_SCOPE)
        : authenticate(req, EVENT_HOOKS_MANAGE_SCOPE);
    const answer = await hooks.handle(req.method ?? 'GET', path, body, baseUrl(req));
    return { ...answer, headers };
  }

  async function emit(request: EmitRequest, orgUrl: string): Promise<EmitResult> {
    const perRequest = request.perRequest ?? 1;
    const events = oktaEvents({ types: request.types, count: request.count });
    const result = new Map<string, EmitResult['hooks'][number]>();
    const started = now();
    // Okta writes each event to the System Log, then delivers it: batch by batch, paced.
    for (let i = 0; i < events.length; i += perRequest) {
      if (request.ratePerSecond) {
        const due = started + (i / request.ratePerSecond) * 1000;
        if (due > now()) await new Promise((resolve) => setTimeout(resolve, due - now()));
      }
      const batch = events.slice(i, i + perRequest);
      org.addEvents(batch);
      for (const summary of await hooks.deliver(batch, orgUrl, perRequest)) {
        const total = result.get(summary.hookId) ?? {
          ...summary,
          deliveries: 0,
          accepted: 0,
          failed: 0,
        };
        total.deliveries += summary.deliveries;
        total.accepted += summary.accepted;
        total.failed += summary.failed;
        result.set(summary.hookId, total);
      }
    }
    return { events: events.length, hooks: [...result.values()] };
  }

  async function simulatorEmit(req: IncomingMessage, body: string) {
    let request: Partial<EmitRequest>;
    try {
      request = JSON.parse(body) as Partial<EmitRequest>;
    } catch {
      throw oktaError(400, 'E0000003', 'The request body was not well-formed.');
    }
    const types = Array.isArray(request.types) ? request.types : [];
    const whole = (n: unknown, max: number) =>
      Number.isInteger(n) && (n as number) >= 1 && (n as number) <= max;
    if (types.length === 0 || !types.every((t) => typeof t === 'string' && isEventType(t))) {
      throw oktaError(400, 'E0000001', 'Api validation failed: types', [
        `types: a list of ${EVENT_TYPES.join(', ')}`,
      ]);
    }
    if (
      !whole(request.count, 1_000_000) ||
      (request.perRequest !== undefined && !whole(request.perRequest, 10_000))
    ) {
      throw oktaError(400, 'E0000001', 'Api validation failed: count', ['count: 1 to 1,000,000']);
    }
    if (
      request.ratePerSecond !== undefined &&
      !(Number(request.ratePerSecond) > 0 && Number(request.ratePerSecond) <= MAX_EMIT_RATE)
    ) {
      throw oktaError(400, 'E0000001', 'Api validation failed: ratePerSecond', [
        `ratePerSecond: above 0, at most ${MAX_EMIT_RATE}`,
      ]);
    }
    const result = await emit(request as EmitRequest, baseUrl(req));
    return { status: 200, headers: {}, body: JSON.stringify(result) };
  }

  /** private_key_jwt of a service app; `audience` is the token endpoint it was made for. */
  function verifyAssertion(
    req: IncomingMessage,
    assertion: string,
    audience = `${baseUrl(req)}/oauth2/v1/token`,
  ): string {
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
    if (claims.aud !== audience) {
      throw invalid(
        `The audience of the client_assertion token is invalid: it must be ${audience}.`,
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

  async function simulatorEvents(req: IncomingMessage, query: URLSearchParams, body: string) {
    const texts = arrayElementTexts(body, []);
    if (!texts)
      throw oktaError(400, 'E0000003', 'The request body was not a JSON array of events.');
    org.addEvents(texts);
    if (query.get('deliver') !== 'true') return { status: 204, headers: {}, body: '' };
    const events = texts.map((t) => JSON.parse(t) as LogEvent);
    const perRequest = Math.max(1, Number(query.get('perRequest')) || 1);
    const except = query.get('except') ?? undefined;
    const delivered = await hooks.deliver(events, baseUrl(req), perRequest, except);
    const result: EmitResult = { events: events.length, hooks: delivered };
    return { status: 200, headers: {}, body: JSON.stringify(result) };
  }

  async function route(req: IncomingMessage, body: string, record: RecordedRequest) {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'GET' && url.pathname === '/api/v1/logs')
      return logs(req, url.searchParams, record);
    const hookPath = /^\/api\/v1\/eventHooks(\/.*)?$/.exec(url.pathname);
    if (hookPath) return eventHooksApi(req, hookPath[1] ?? '', body, record);
    if (req.method === 'POST' && url.pathname === '/oauth2/v1/token') return token(req, body);
    const serverPath = /^\/oauth2\/default(\/.*)$/.exec(url.pathname);
    if (serverPath) {
      const answer = await authorizationServer.handle(req, serverPath[1]!, body);
      if (answer.refusal) record.refusal = answer.refusal;
      return answer;
    }
    const rotate =
      /^\/api\/v1\/authorizationServers\/([^/]+)\/credentials\/lifecycle\/keyRotate$/.exec(
        url.pathname,
      );
    if (req.method === 'POST' && rotate) {
      record.auth = authenticate(req, AUTHORIZATION_SERVERS_MANAGE_SCOPE);
      return authorizationServer.keyRotateApi(rotate[1]!, body);
    }
    if (req.method === 'POST' && url.pathname === '/_simulator/events')
      return simulatorEvents(req, url.searchParams, body);
    if (req.method === 'POST' && url.pathname === '/_simulator/emit')
      return simulatorEmit(req, body);
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
    req.on('end', async () => {
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
        const answer = await route(req, Buffer.concat(chunks).toString('utf8'), record);
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
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  authorizationServer.setOrigin(url);
  return Object.assign(org, {
    url,
    port,
    hooks,
    authorizationServer,
    emit: (request: EmitRequest) => emit(request, url),
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
