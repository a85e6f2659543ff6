/**
 * The event browser, served by the service itself on the read API's origin:
 *
 *   GET    /ui                 the page (public: it holds no data)
 *   GET    /ui/assets/<file>   its script, style and icon, built into this function's bundle
 *   GET    /ui/session         whether a token is needed and whether this browser is signed in
 *   POST   /ui/session         sign in: {"token": EVENTS_API_TOKEN} -> the session cookie
 *   DELETE /ui/session         sign out: clears the cookie
 *
 * The data itself comes from the read API, which accepts the session cookie (lib/http/auth.ts).
 */
import { assertReadApiEnabled, matchesAny } from '../http/auth';
import { type EndpointDeps, createEndpoint } from '../http/endpoint';
import { FailureLimiter } from '../http/failure-limiter';
import {
  type ApiGatewayEvent,
  type HttpRequest,
  type HttpResponse,
  jsonResponse,
  withCookie,
} from '../http/http';
import {
  isCrossOrigin,
  isHttps,
  sessionClearCookie,
  sessionCookie,
  sessionIdOf,
  sessionSetCookie,
  verifySession,
} from '../http/session';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { SessionRevocations } from '../store/session-revocations';
import type { Config } from '../config';
import { RequestError } from '../errors';
import { SECURITY_HEADERS } from './security-headers';
import type { UiAssets } from './ui-assets';

/** A sign-in body is one token: anything longer is not one. */
const MAX_SIGN_IN_BYTES = 4096;

export interface SessionState {
  /** False when no EVENTS_API_TOKEN is set (the local stage only): the page needs no sign-in. */
  tokenRequired: boolean;
  signedIn: boolean;
  /** When the session cookie stops being accepted (ISO time). */
  expiresAt?: string;
}

async function sessionState(
  request: HttpRequest,
  config: Config,
  nowMs: number,
  revocations: SessionRevocations,
): Promise<SessionState> {
  if (config.eventsApiTokens.length === 0) {
    assertReadApiEnabled(config); // 403 on a deployed stage, as the read API
    return { tokenRequired: false, signedIn: true };
  }
  const cookie = sessionCookie(request.headers.cookie);
  let expiresAt =
    cookie === undefined ? undefined : verifySession(cookie, config.eventsApiTokens, nowMs);
  if (expiresAt !== undefined && (await revocations.isRevoked(sessionIdOf(cookie!)!))) {
    expiresAt = undefined;
  }
  return expiresAt === undefined
    ? { tokenRequired: true, signedIn: false }
    : { tokenRequired: true, signedIn: true, expiresAt: new Date(expiresAt * 1000).toISOString() };
}

/**
 * Sign-in and sign-out change state: only the page's own origin may ask (browsers always send
 * Origin with such requests; the cookie's SameSite=Strict already keeps other sites' out).
 */
function assertSameOrigin(request: HttpRequest): void {
  if (isCrossOrigin(request.headers)) {
    throw new RequestError(
      403,
      'cross_origin',
      "Sign-in and sign-out are only accepted from the event browser's own page.",
    );
  }
}

function tokenOf(request: HttpRequest): string {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new RequestError(415, 'unsupported_media_type', 'Send the token as application/json.');
  }
  if (request.rawBody.length > MAX_SIGN_IN_BYTES) {
    throw new RequestError(413, 'body_too_large', 'A sign-in body holds only the token.');
  }
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    body = undefined;
  }
  const token = (body as { token?: unknown } | undefined)?.token;
  if (typeof token !== 'string' || token.trim() === '') {
    throw new RequestError(
      400,
      'invalid_body',
      'The body must be {"token": "<EVENTS_API_TOKEN>"}.',
    );
  }
  return token.trim();
}

async function signIn(
  request: HttpRequest,
  config: Config,
  nowMs: number,
  failures: FailureLimiter,
  revocations: SessionRevocations,
): Promise<HttpResponse> {
  assertSameOrigin(request);
  const token = tokenOf(request);
  if (config.eventsApiTokens.length === 0) {
    return jsonResponse(200, await sessionState(request, config, nowMs, revocations));
  }
  failures.guard(request.sourceIp, 'sign-ins', () => {
    if (!matchesAny(token, config.eventsApiTokens)) {
      throw new RequestError(401, 'unauthorized', 'That is not an accepted EVENTS_API_TOKEN.');
    }
  });
  const { setCookie, expiresAt } = sessionSetCookie(
    token,
    isHttps(request.headers, config.stage),
    nowMs,
  );
  const response = jsonResponse(200, {
    tokenRequired: true,
    signedIn: true,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  });
  return withCookie(response, request, setCookie);
}

/** Clears the cookie, and revokes its session on the server: a copy of it is refused too. */
async function signOut(
  request: HttpRequest,
  config: Config,
  nowMs: number,
  revocations: SessionRevocations,
): Promise<HttpResponse> {
  assertSameOrigin(request);
  const cookie = sessionCookie(request.headers.cookie);
  const expiresAt =
    cookie === undefined ? undefined : verifySession(cookie, config.eventsApiTokens, nowMs);
  if (expiresAt !== undefined) await revocations.revoke(sessionIdOf(cookie!)!, expiresAt);
  return withCookie(
    { statusCode: 204, body: '' },
    request,
    sessionClearCookie(isHttps(request.headers, config.stage)),
  );
}

function methodNotAllowed(allowed: string): RequestError {
  return new RequestError(405, 'method_not_allowed', `This path takes ${allowed}.`);
}

function servePage(request: HttpRequest, assets: UiAssets): HttpResponse {
  if (request.method !== 'GET') throw methodNotAllowed('GET');
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
    body: assets.html,
  };
}

/** 308 to `path` with the same query: the method (GET) is kept, and browsers cache it. */
function redirectTo(path: string, request: HttpRequest): HttpResponse {
  const query = new URLSearchParams(request.query).toString();
  return {
    statusCode: 308,
    headers: { location: query ? `${path}?${query}` : path, 'cache-control': 'no-cache' },
    body: '',
  };
}

function serveAsset(request: HttpRequest, assets: UiAssets, name: string): HttpResponse {
  if (request.method !== 'GET') throw methodNotAllowed('GET');
  const file = Object.hasOwn(assets.files, name) ? assets.files[name] : undefined;
  if (!file) throw new RequestError(404, 'not_found', `No such file: ${name.slice(0, 100)}.`);
  const etag = `"${assets.version}"`;
  // The page asks for ?v=<version>: that exact URL never changes, anything else is revalidated.
  const cacheControl =
    request.query.v === assets.version ? 'public, max-age=31536000, immutable' : 'no-cache';
  if (request.headers['if-none-match'] === etag) {
    return { statusCode: 304, headers: { etag, 'cache-control': cacheControl }, body: '' };
  }
  return {
    statusCode: 200,
    headers: { 'content-type': file.contentType, etag, 'cache-control': cacheControl },
    body: file.body,
  };
}

export function createUiHandler(
  deps: EndpointDeps & {
    assets: UiAssets;
    now?: () => number;
    failures?: FailureLimiter;
    revocations?: SessionRevocations;
  },
): (event: ApiGatewayEvent) => Promise<HttpResponse> {
  let revocations = deps.revocations; // one client per container, made on first use
  const revocationsOf = (config: Config) =>
    (revocations ??= new SessionRevocations(
      createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS }),
      config.tableName,
    ));
  const now = deps.now ?? Date.now;
  const failures = deps.failures ?? new FailureLimiter(now); // per container: see its file
  const endpoint = createEndpoint(
    deps,
    // The page and its files are public; the session routes check the token themselves.
    () => 'unauthenticated',
    async ({ request, config, log }) => {
      const path = request.path.replace(/\/+$/, '');
      if (path === '/ui') {
        // The page's files are relative (ui/assets/...): under /ui/ they would not resolve.
        if (request.path !== path) return redirectTo(path, request);
        return servePage(request, deps.assets);
      }
      const asset = /^\/ui\/assets\/([^/]+)$/.exec(path);
      if (asset) return serveAsset(request, deps.assets, asset[1]!);
      if (path === '/ui/session') {
        if (request.method === 'GET') {
          return jsonResponse(
            200,
            await sessionState(request, config, now(), revocationsOf(config)),
          );
        }
        if (request.method === 'POST') {
          const response = await signIn(request, config, now(), failures, revocationsOf(config));
          log.caller = 'session';
          return response;
        }
        if (request.method === 'DELETE') {
          return signOut(request, config, now(), revocationsOf(config));
        }
        throw methodNotAllowed('GET, POST or DELETE');
      }
      throw new RequestError(404, 'not_found', 'No such page: the event browser is at /ui.');
    },
    ['eventsApiToken'],
  );
  return async (event) => {
    const response = await endpoint(event);
    const headers = { ...response.headers, ...SECURITY_HEADERS };
    // Answers about sessions (and errors) are per browser: never cached.
    headers['cache-control'] ??= 'no-store';
    return { ...response, headers };
  };
}
