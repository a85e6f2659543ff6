/**
 * "Sign in with Okta" for the event browser: OpenID Connect's authorization code flow with PKCE,
 * run by the ui function with openid-client (a certified relying party).
 *
 *   GET /ui/login     302 to the issuer's authorize endpoint; the flow's verifier, state and
 *                     nonce go into a signed, short-lived cookie (no server state for the flow)
 *   GET /ui/callback  checks state, exchanges the code, checks the ID token and the user's
 *                     groups, then sets the session cookie (lib/http/session.ts) and goes to /ui
 *
 * Refusals are thrown as SignInRefusal: ui-endpoint.ts shows them as an HTML page.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { type Config, type SignInConfig, isLocalHttp } from '../config';
import { ConfigError, RequestError } from '../errors';
import type { HttpRequest } from '../http/http';
import { issuerFetch } from '../okta/issuer-metadata';
import { type SessionUser, cookieValue, isHttps, userSessionSetCookie } from '../http/session';
import type { SessionRevocations } from '../store/session-revocations';

/** Time to sign in at Okta before the flow cookie lapses. */
const FLOW_SECONDS = 10 * 60;
/** Bounds each call to the issuer (discovery, token): the function itself has 6 s. */
const ISSUER_TIMEOUT_SECONDS = 4;
const SCOPES = 'openid profile email groups';
// Not __Host-: that prefix demands Path=/, and this cookie is for /ui/callback only.
const FLOW_PLAIN_NAME = 'okta-events-sign-in';
const FLOW_SECURE_NAME = `__Secure-${FLOW_PLAIN_NAME}`;
/** The session cookie stays well under browsers' 4 KB: a longer group list is cut. */
const MAX_GROUPS_JSON = 1800;

/** A sign-in that cannot go on: shown as an HTML page with `title`, logged with `reason`. */
export class SignInRefusal extends RequestError {
  override name = 'SignInRefusal';
  constructor(
    statusCode: number,
    code: string,
    readonly title: string,
    message: string,
    readonly reason: string,
    /** Offer "Try again" (/ui/login): not when trying again cannot help. */
    readonly tryAgain = true,
  ) {
    super(statusCode, code, message);
  }
}

interface Flow {
  verifier: string;
  state: string;
  nonce: string;
  expiresAt: number;
}

function clientSecretOf(signIn: SignInConfig): string {
  if (!signIn.issuer || !signIn.uiClientId) {
    throw new SignInRefusal(
      404,
      'okta_sign_in_off',
      'Sign in with Okta is off',
      'This stage has no OKTA_ISSUER and OKTA_UI_CLIENT_ID: sign in with the token instead.',
      'OKTA_ISSUER or OKTA_UI_CLIENT_ID is not set',
      false,
    );
  }
  if (!signIn.uiClientSecret) {
    throw new ConfigError(
      'OKTA_UI_CLIENT_SECRET (SSM okta-ui-client-secret) is not set: Sign in with Okta cannot work',
    );
  }
  return signIn.uiClientSecret;
}

// Per container: discovery once per issuer and client; a failed one is tried again next time.
const configurations = new Map<string, Promise<oidc.Configuration>>();

function oidcConfiguration(signIn: SignInConfig): Promise<oidc.Configuration> {
  const secret = clientSecretOf(signIn);
  const issuer = new URL(signIn.issuer!);
  const key = `${issuer.href}\n${signIn.uiClientId}\n${createHash('sha256').update(secret).digest('hex')}`;
  let configuration = configurations.get(key);
  if (!configuration) {
    configuration = oidc
      .discovery(issuer, signIn.uiClientId!, undefined, oidc.ClientSecretBasic(secret), {
        // Plain http only for a local test issuer (the fake org); never for a real one.
        execute: isLocalHttp(issuer) ? [oidc.allowInsecureRequests] : [],
        timeout: ISSUER_TIMEOUT_SECONDS,
      })
      .catch((error: unknown) => {
        configurations.delete(key);
        throw new SignInRefusal(
          503,
          'issuer_unavailable',
          'Okta cannot be reached',
          'The sign-in service could not be reached just now. Try again in a moment.',
          `discovery at ${issuer.href} failed: ${(error as Error).message}`,
        );
      });
    configurations.set(key, configuration);
  }
  return configuration;
}

// The issuer's keys, per container. openid-client's own check of the ID token's signature
// refetches keys on an unknown kid only after 60 s; jose's, without a cooldown, refetches at once.
// The ID token comes straight from the token endpoint, never from the browser, so an unknown kid
// means a real rotation and nobody can make us fetch at will.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

async function verifyIdTokenSignature(configuration: oidc.Configuration, idToken: string) {
  const metadata = configuration.serverMetadata();
  const jwksUri = metadata.jwks_uri;
  if (!jwksUri) throw new Error('the issuer publishes no jwks_uri');
  let keys = keySets.get(jwksUri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: 0,
      timeoutDuration: ISSUER_TIMEOUT_SECONDS * 1000,
      // Fetched as the read API fetches keys: at most 1 MB, one retry on a stale socket.
      [customFetch]: issuerFetch(),
    });
    keySets.set(jwksUri, keys);
  }
  await jwtVerify(idToken, keys, {
    algorithms: ['RS256'],
    issuer: metadata.issuer,
    audience: configuration.clientMetadata().client_id,
  });
}

/** This deployment's address as the browser sees it (API Gateway's host, https there). */
function originOf(request: HttpRequest, config: Config): string {
  return `${isHttps(request.headers, config.stage) ? 'https' : 'http'}://${request.headers.host}`;
}

export function callbackUrl(request: HttpRequest, config: Config): string {
  return `${originOf(request, config)}/ui/callback`;
}

function flowMac(secret: string, payload: string): Buffer {
  const key = createHmac('sha256', secret).update('okta-events-ui-sign-in-flow').digest();
  return createHmac('sha256', key).update(payload).digest();
}

function flowCookieName(secure: boolean): string {
  return secure ? FLOW_SECURE_NAME : FLOW_PLAIN_NAME;
}

function flowAttributes(secure: boolean, maxAge: number): string {
  // SameSite=Lax, not Strict: the cookie must come back on Okta's redirect to /ui/callback, a
  // top-level GET from another site, which Strict would strip. It is only read on that path.
  return `Path=/ui/callback; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

function flowSetCookie(secret: string, flow: Flow, secure: boolean): string {
  const payload = Buffer.from(
    JSON.stringify({ v: flow.verifier, s: flow.state, n: flow.nonce, e: flow.expiresAt }),
  ).toString('base64url');
  const value = `${payload}.${flowMac(secret, payload).toString('base64url')}`;
  return `${flowCookieName(secure)}=${value}; ${flowAttributes(secure, FLOW_SECONDS)}`;
}

export function flowClearCookie(secure: boolean): string {
  return `${flowCookieName(secure)}=; ${flowAttributes(secure, 0)}`;
}

function readFlowCookie(
  request: HttpRequest,
  secret: string,
  nowMs: number,
): { flow?: Flow; why: string } {
  const value = cookieValue(request.headers.cookie, [FLOW_SECURE_NAME, FLOW_PLAIN_NAME]);
  if (!value) return { why: 'no sign-in cookie' };
  const match = /^([A-Za-z0-9_-]{1,1000})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match || !timingSafeEqual(Buffer.from(match[2]!, 'base64url'), flowMac(secret, match[1]!))) {
    return { why: 'the sign-in cookie is not signed by this service' };
  }
  const { v, s, n, e } = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as {
    v: string;
    s: string;
    n: string;
    e: number;
  };
  if (e * 1000 <= nowMs) return { why: 'the sign-in cookie has expired' };
  return { flow: { verifier: v, state: s, nonce: n, expiresAt: e }, why: '' };
}

/** GET /ui/login: where to send the browser, and the flow cookie to set. */
export async function startSignIn(
  request: HttpRequest,
  config: Config,
  nowMs: number,
): Promise<{ location: string; setCookie: string }> {
  const configuration = await oidcConfiguration(config.signIn);
  const flow: Flow = {
    verifier: oidc.randomPKCECodeVerifier(),
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    expiresAt: Math.floor(nowMs / 1000) + FLOW_SECONDS,
  };
  const location = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: callbackUrl(request, config),
    scope: SCOPES,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256',
  });
  const secure = isHttps(request.headers, config.stage);
  return {
    location: location.href,
    setCookie: flowSetCookie(config.signIn.uiClientSecret!, flow, secure),
  };
}

/** What openid-client found wrong (its own message is generic), for the log; never a value. */
function detailOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}

function tryAgain(
  statusCode: number,
  code: string,
  message: string,
  reason: string,
): SignInRefusal {
  return new SignInRefusal(statusCode, code, 'Sign-in did not complete', message, reason);
}

/** The login Okta names: its `preferred_username` (the Okta login), else email, else sub. */
function loginOf(claims: oidc.IDToken): string {
  for (const claim of [claims.preferred_username, claims.email, claims.sub]) {
    if (typeof claim === 'string' && claim !== '') return claim;
  }
  return 'unknown';
}

function groupsOf(claims: oidc.IDToken): string[] {
  const groups = Array.isArray(claims.groups) ? claims.groups : [];
  return groups.filter((g): g is string => typeof g === 'string');
}

/** The groups the session carries: those that matter here, cut to fit the cookie. */
function sessionGroups(groups: string[], allowed: string[]): string[] {
  const kept = allowed.length > 0 ? groups.filter((g) => allowed.includes(g)) : [...groups];
  while (JSON.stringify(kept).length > MAX_GROUPS_JSON) kept.pop();
  return kept;
}

export interface SignedIn {
  user: SessionUser;
  setCookies: string[];
}

/** GET /ui/callback: the session for the user Okta vouches for, or a SignInRefusal. */
export async function finishSignIn(
  request: HttpRequest,
  config: Config,
  nowMs: number,
  sessions: SessionRevocations,
): Promise<SignedIn> {
  const secret = clientSecretOf(config.signIn);
  const { error, error_description: description } = request.query;
  if (error !== undefined) {
    const detail = (description ?? '').slice(0, 300);
    if (error === 'access_denied') {
      throw new SignInRefusal(
        403,
        'access_denied',
        'Okta did not sign you in',
        `Okta refused the sign-in${detail ? `: ${detail}` : '.'} If you should have access, ask your Okta administrator to assign you to the event browser's app.`,
        `the issuer answered error=access_denied ${detail}`.trim(),
      );
    }
    throw tryAgain(
      400,
      'sign_in_failed',
      `Okta answered "${error.slice(0, 100)}"${detail ? `: ${detail}` : '.'}`,
      `the issuer answered error=${error.slice(0, 100)} ${detail}`.trim(),
    );
  }
  const { flow, why } = readFlowCookie(request, secret, nowMs);
  if (!flow) {
    throw tryAgain(
      400,
      'sign_in_expired',
      'This sign-in was not started in this browser in the last 10 minutes, or has already been used.',
      why,
    );
  }
  const state = request.query.state ?? '';
  if (!timingSafeEqual(flowMac(secret, state), flowMac(secret, flow.state))) {
    throw tryAgain(
      400,
      'wrong_state',
      'This answer from Okta does not belong to the sign-in this browser started.',
      'the state in the callback is not the one in the sign-in cookie',
    );
  }
  // Once only, checked here rather than trusting every issuer to refuse a second use of a code.
  if (!(await sessions.claimSignInState(flow.state, flow.expiresAt))) {
    throw tryAgain(400, 'sign_in_used', 'This sign-in has already been used.', 'state reused');
  }
  const configuration = await oidcConfiguration(config.signIn);
  const currentUrl = new URL(callbackUrl(request, config));
  for (const [name, value] of Object.entries(request.query))
    currentUrl.searchParams.set(name, value);
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) {
      throw tryAgain(
        400,
        'code_refused',
        'Okta would not complete this sign-in (the code expired or was already used).',
        `the token endpoint answered ${error.error}: ${error.error_description ?? ''}`.trim(),
      );
    }
    throw tryAgain(
      502,
      'bad_issuer_answer',
      "Okta's answer could not be used to sign you in.",
      `the code exchange failed: ${(error as Error).message}${detailOf(error)}`,
    );
  }
  try {
    await verifyIdTokenSignature(configuration, tokens.id_token!);
  } catch (error) {
    throw tryAgain(
      502,
      'bad_id_token',
      "Okta's answer could not be used to sign you in.",
      `the ID token's signature did not verify: ${(error as Error).message}`,
    );
  }
  const claims = tokens.claims()!;
  const login = loginOf(claims);
  const groups = groupsOf(claims);
  const allowed = config.signIn.uiGroups;
  if (allowed.length > 0 && !groups.some((g) => allowed.includes(g))) {
    throw new SignInRefusal(
      403,
      'not_in_allowed_group',
      'Not in an allowed group',
      `You signed in to Okta as ${login}, but the event browser is only for members of ${allowed.join(', ')}. To get access, ask your Okta administrator to add you to one of these groups, then sign in again.`,
      `${login} is in none of OKTA_UI_GROUPS`,
      false,
    );
  }
  const user = { login, groups: sessionGroups(groups, allowed) };
  const secure = isHttps(request.headers, config.stage);
  const session = userSessionSetCookie(secret, user, secure, nowMs);
  await sessions.saveIdToken(session.sessionId, tokens.id_token!, session.expiresAt);
  return { user, setCookies: [session.setCookie, flowClearCookie(secure)] };
}

/**
 * Where to send a browser that just signed out of a session signed in with Okta: the issuer's
 * end_session endpoint with the ID token as hint, back to /ui. Undefined when there is none.
 */
export async function logoutUrl(
  request: HttpRequest,
  config: Config,
  idToken: string,
): Promise<string | undefined> {
  const configuration = await oidcConfiguration(config.signIn);
  if (!configuration.serverMetadata().end_session_endpoint) return undefined;
  return oidc.buildEndSessionUrl(configuration, {
    id_token_hint: idToken,
    post_logout_redirect_uri: `${originOf(request, config)}/ui`,
  }).href;
}
