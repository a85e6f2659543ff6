/**
 * The event browser, served by the service itself on the read API's origin:
 *
 *   GET    /ui                 the page (public: it holds no data)
 *   GET    /ui/assets/<file>   its script, style and icon, built into this function's bundle
 *   GET    /ui/session         which sign-ins are offered, and who this browser is signed in as
 *   POST   /ui/session         sign in: {"token": EVENTS_API_TOKEN} -> the session cookie
 *   DELETE /ui/session         sign out: revokes and clears the cookie; after an Okta sign-in,
 *                              answers the issuer's logout URL for the page to go to
 *   GET    /ui/login           Sign in with Okta (lib/ui/okta-sign-in.ts)
 *   GET    /ui/callback        ...where Okta sends the browser back
 *
 * The data itself comes from the read API, which accepts the session cookie (lib/http/auth.ts).
 */
import { assertReadApiEnabled, matchesAny, oktaSignInConfigured } from '../http/auth';
import { type EndpointDeps, createEndpoint } from '../http/endpoint';
import { FailureLimiter } from '../http/failure-limiter';
import {
  type ApiGatewayEvent,
  type HttpRequest,
  type HttpResponse,
  errorResponse,
  jsonResponse,
  withCookie,
} from '../http/http';
import {
  isCrossOrigin,
  isHttps,
  sessionClearCookie,
  sessionCookie,
  sessionSetCookie,
  verifyAnySession,
} from '../http/session';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { SessionRevocations } from '../store/session-revocations';
import type { Config } from '../config';
import { RequestError } from '../errors';
import type { RequestLog } from '../logger';
import { SignInRefusal, finishSignIn, logoutUrl, startSignIn } from './okta-sign-in';
import { SECURITY_HEADERS } from './security-headers';
import type { SessionState } from './session-state';
import { signInPage } from './sign-in-pages';
import type { UiAssets } from './ui-assets';

/** A sign-in body is one token: anything longer is not one. */
const MAX_SIGN_IN_BYTES = 4096;

function offeredSignIns(config: Config): SessionState['signIns'] {
  return {
    okta: oktaSignInConfigured(config),
    token: config.signIn.uiTokenSignIn && config.eventsApiTokens.length > 0,
  };
}

/** The request's session cookie when it verifies and was not signed out. */
async function currentSession(
  request: HttpRequest,
  config: Config,
  nowMs: number,
  revocations: SessionRevocations,
) {
  const cookie = sessionCookie(request.headers.cookie);
  if (cookie === undefined) return undefined;
  const keys = { tokens: config.eventsApiTokens, uiClientSecret: config.signIn.uiClientSecret };
  const session = verifyAnySession(cookie, keys, nowMs);
  if (session === undefined || (await revocations.isRevoked(session.sessionId))) return undefined;
  return session;
}

async function sessionState(
  request: HttpRequest,
  config: Config,
  nowMs: number,
  revocations: SessionRevocations,
): Promise<SessionState> {
  const signIns = offeredSignIns(config);
  // Open on the local stage with neither a token nor an issuer; 403 on a deployed one, as the
  // read API.
  if (!assertReadApiEnabled(config)) return { tokenRequired: false, signedIn: true, signIns };
  const session = await currentSession(request, config, nowMs, revocations);
  if (session === undefined) return { tokenRequired: true, signedIn: false, signIns };
  return {
    tokenRequired: true,
    signedIn: true,
    expiresAt: new Date(session.expiresAt * 1000).toISOString(),
    ...(session.user ? { user: session.user.login } : {}),
    signIns,
  };
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
  // Off by setting, or because Okta sign-in is the only one (no token to check against).
  if (
    !config.signIn.uiTokenSignIn ||
    (!offeredSignIns(config).token && oktaSignInConfigured(config))
  ) {
    throw new RequestError(
      403,
      'token_sign_in_off',
      'Signing in with a token is turned off on this stage: sign in with Okta.',
    );
  }
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
    signIns: offeredSignIns(config),
  });
  return withCookie(response, request, setCookie);
}

/**
 * Clears the cookie, and revokes its session on the server: a copy of it is refused too. A
 * session signed in with Okta gets `{"logoutUrl": ...}` back, the issuer's logout, for the page
 * to go to: a DELETE the page sends keeps the same-origin check that a plain GET link would lose.
 */
async function signOut(
  request: HttpRequest,
  config: Config,
  nowMs: number,
  revocations: SessionRevocations,
  log: RequestLog,
): Promise<HttpResponse> {
  assertSameOrigin(request);
  const cookie = sessionCookie(request.headers.cookie);
  const keys = { tokens: config.eventsApiTokens, uiClientSecret: config.signIn.uiClientSecret };
  const session = cookie === undefined ? undefined : verifyAnySession(cookie, keys, nowMs);
  let response: HttpResponse = { statusCode: 204, body: '' };
  if (session !== undefined) {
    const idToken = session.user ? await revocations.idTokenOf(session.sessionId) : undefined;
    await revocations.revoke(session.sessionId, session.expiresAt);
    if (session.user) log.user = session.user.login;
    if (idToken !== undefined && oktaSignInConfigured(config)) {
      try {
        const url = await logoutUrl(request, config, idToken);
        if (url) response = jsonResponse(200, { signedIn: false, logoutUrl: url });
      } catch (error) {
        // Signed out here all the same; only Okta's own session stays.
        log.warning = `no logout at the issuer: ${(error as Error).message}`;
      }
    }
  }
  return withCookie(response, request, sessionClearCookie(isHttps(request.headers, config.stage)));
}

/**
 * The sign-in routes answer a browser navigating, so a refusal is an HTML page (with its status
 * from errorResponse, the one mapping) and the log line says why.
 */
async function asPage(
  log: RequestLog,
  assets: UiAssets,
  route: () => Promise<HttpResponse>,
): Promise<HttpResponse> {
  try {
    return await route();
  } catch (error) {
    const mapped = errorResponse(error);
    const { error: code, message } = JSON.parse(mapped.body!) as { error: string; message: string };
    log.level = mapped.statusCode >= 500 ? 'error' : 'warn';
    log.error = code;
    log.reason = error instanceof SignInRefusal ? error.reason : (error as Error).message;
    const refusal = error instanceof SignInRefusal ? error : undefined;
    return signInPage(mapped.statusCode, {
      title: refusal?.title ?? 'Sign-in did not complete',
      message,
      tryAgain: refusal?.tryAgain ?? true,
      assetsVersion: assets.version,
    });
  }
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

/** 302 (a GET at `location`), never cached. */
function redirect(location: string): HttpResponse {
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
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
          return signOut(request, config, now(), revocationsOf(config), log);
        }
        throw methodNotAllowed('GET, POST or DELETE');
      }
      if (path === '/ui/login') {
        if (request.method !== 'GET') throw methodNotAllowed('GET');
        return asPage(log, deps.assets, async () => {
          const { location, setCookie } = await startSignIn(request, config, now());
          return withCookie(redirect(location), request, setCookie);
        });
      }
      if (path === '/ui/callback') {
        if (request.method !== 'GET') throw methodNotAllowed('GET');
        return asPage(log, deps.assets, async () => {
          const { user, setCookies } = await finishSignIn(
            request,
            config,
            now(),
            revocationsOf(config),
          );
          log.caller = 'session';
          log.user = user.login;
          // REST API (payload 1.0) responses carry one Set-Cookie: the session's. The flow cookie
          // then lapses by itself, and its state is already used up.
          const cookies = request.payloadVersion === '2.0' ? setCookies : setCookies.slice(0, 1);
          return cookies.reduce((r, c) => withCookie(r, request, c), redirect('/ui'));
        });
      }
      throw new RequestError(404, 'not_found', 'No such page: the event browser is at /ui.');
    },
    ['eventsApiToken', 'oktaUiClientSecret'],
  );
  return async (event) => {
    const response = await endpoint(event);
    const headers = { ...response.headers, ...SECURITY_HEADERS };
    // Answers about sessions (and errors) are per browser: never cached.
    headers['cache-control'] ??= 'no-store';
    return { ...response, headers };
  };
}
