/**
 * The event browser's session cookie: a signed expiry and session id, never the token. Signing
 * it with a key derived from the EVENTS_API_TOKEN that was presented means no new secret to
 * manage, and removing a token from EVENTS_API_TOKEN (rotation) ends every session made with it.
 * Signing out records the session id as revoked in the table (lib/store/session-revocations.ts),
 * so a copied cookie stops working too.
 *
 * Value: `<expiry in epoch seconds>.<session id>.<base64url HMAC-SHA256(key, "v2.<expiry>.<id>")>`,
 * where key = HMAC-SHA256(token, "okta-events-ui-session") and the id is 16 random bytes.
 *
 * A session made by signing in with Okta (lib/ui/okta-sign-in.ts) also carries the user's login
 * and groups: `u.<expiry>.<session id>.<base64url JSON {"u": login, "g": groups}>.<mac>`, the MAC
 * HMAC-SHA256(key, "u1.<expiry>.<id>.<payload>") with key = HMAC-SHA256(the OIDC web app's client
 * secret, "okta-events-ui-user-session"): again no new secret, and rotating the client secret
 * ends these sessions.
 *
 * Attributes: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it,
 * so the read API's cookie auth needs no CSRF token: it only serves GETs), Path=/. Over https
 * also Secure and the `__Host-` prefix, which makes browsers refuse a Domain or a non-/ Path.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a sign-in lasts: a working day, then the token is asked for again. */
export const SESSION_SECONDS = 12 * 60 * 60;
const PLAIN_NAME = 'okta-events-session';
const SECURE_NAME = `__Host-${PLAIN_NAME}`;

function sessionKey(token: string): Buffer {
  return createHmac('sha256', token).update('okta-events-ui-session').digest();
}

function mac(token: string, expiresAt: number, sessionId: string): Buffer {
  return createHmac('sha256', sessionKey(token)).update(`v2.${expiresAt}.${sessionId}`).digest();
}

/** A cookie value that proves, until `expiresAt` (epoch seconds), that `token` was presented. */
export function signSession(
  token: string,
  expiresAt: number,
  sessionId = randomBytes(16).toString('base64url'),
): string {
  return `${expiresAt}.${sessionId}.${mac(token, expiresAt, sessionId).toString('base64url')}`;
}

const SESSION_VALUE = /^(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** The session id of a cookie value either verifier accepted (it is revoked by this id). */
export function sessionIdOf(value: string): string | undefined {
  return SESSION_VALUE.exec(value)?.[2] ?? USER_SESSION_VALUE.exec(value)?.[2];
}

/** Who a session signed in with Okta belongs to. */
export interface SessionUser {
  login: string;
  groups: string[];
}

const USER_SESSION_VALUE =
  /^u\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{1,3000})\.([A-Za-z0-9_-]{43})$/;

function userMac(clientSecret: string, expiresAt: number, id: string, payload: string): Buffer {
  const key = createHmac('sha256', clientSecret).update('okta-events-ui-user-session').digest();
  return createHmac('sha256', key).update(`u1.${expiresAt}.${id}.${payload}`).digest();
}

/** A cookie value that says, until `expiresAt`, that `user` signed in with Okta. */
export function signUserSession(
  clientSecret: string,
  user: SessionUser,
  expiresAt: number,
  sessionId = randomBytes(16).toString('base64url'),
): string {
  const payload = Buffer.from(JSON.stringify({ u: user.login, g: user.groups })).toString(
    'base64url',
  );
  const mac = userMac(clientSecret, expiresAt, sessionId, payload).toString('base64url');
  return `u.${expiresAt}.${sessionId}.${payload}.${mac}`;
}

/** A verified session: when it ends, its id, and its user when it was made by Okta sign-in. */
export interface VerifiedSession {
  expiresAt: number;
  sessionId: string;
  user?: SessionUser;
}

/**
 * Either kind of session cookie, verified: a token session against `tokens`, an Okta one against
 * the web app's client secret. Undefined when neither accepts it or it has expired.
 */
export function verifyAnySession(
  value: string,
  keys: { tokens: readonly string[]; uiClientSecret: string | undefined },
  nowMs = Date.now(),
): VerifiedSession | undefined {
  const match = USER_SESSION_VALUE.exec(value);
  if (!match) {
    const expiresAt = verifySession(value, keys.tokens, nowMs);
    return expiresAt === undefined ? undefined : { expiresAt, sessionId: sessionIdOf(value)! };
  }
  if (keys.uiClientSecret === undefined) return undefined;
  const [, expiry, sessionId, payload, given] = match as unknown as string[];
  const expiresAt = Number(expiry);
  const expected = userMac(keys.uiClientSecret, expiresAt, sessionId!, payload!);
  if (!timingSafeEqual(Buffer.from(given!, 'base64url'), expected)) return undefined;
  if (expiresAt * 1000 <= nowMs) return undefined;
  const { u, g } = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as {
    u: string;
    g: string[];
  };
  return { expiresAt, sessionId: sessionId!, user: { login: u, groups: g } };
}

/**
 * The session's expiry (epoch seconds) when `value` was signed with one of `tokens` and has
 * not expired; undefined otherwise. Every token is compared, in constant time.
 */
export function verifySession(
  value: string,
  tokens: readonly string[],
  nowMs = Date.now(),
): number | undefined {
  const match = SESSION_VALUE.exec(value);
  if (!match) return undefined;
  const expiresAt = Number(match[1]);
  const sessionId = match[2]!;
  const given = Buffer.from(match[3]!, 'base64url');
  if (given.length !== 32) return undefined;
  let valid = false;
  for (const token of tokens) {
    valid = timingSafeEqual(given, mac(token, expiresAt, sessionId)) || valid;
  }
  return valid && expiresAt * 1000 > nowMs ? expiresAt : undefined;
}

/** The value of the first cookie named one of `names` in a Cookie header; undefined when absent. */
export function cookieValue(
  cookieHeader: string | undefined,
  names: readonly string[],
): string | undefined {
  if (!cookieHeader) return undefined;
  // Several Cookie headers arrive joined with ", " (lib/http/http.ts), cookies within one with "; ".
  for (const pair of cookieHeader.split(/;\s*|,\s+/)) {
    const eq = pair.indexOf('=');
    if (eq > 0 && names.includes(pair.slice(0, eq).trim())) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** The session cookie's value in a Cookie header, under either name; undefined when absent. */
export function sessionCookie(cookieHeader: string | undefined): string | undefined {
  return cookieValue(cookieHeader, [SECURE_NAME, PLAIN_NAME]);
}

/**
 * True when a browser says the request comes from a page of another origin: `Sec-Fetch-Site`
 * other than same-origin or none (typed or bookmarked), or an `Origin` whose host is not ours.
 * SameSite=Strict does not separate origins of one site (another port of localhost, another
 * subdomain), so requests carrying the session cookie are refused on this. Scripts and curl send
 * neither header.
 */
export function isCrossOrigin(headers: Record<string, string>): boolean {
  const site = headers['sec-fetch-site']?.trim().toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true; // "null" (a sandboxed or file: page) and anything unparsable
  }
}

/**
 * Whether the browser reached us over https. API Gateway only serves https and says so in
 * X-Forwarded-Proto; serverless offline serves plain http on the local stage.
 */
export function isHttps(headers: Record<string, string>, stage: string): boolean {
  const proto = headers['x-forwarded-proto']?.split(',')[0]?.trim().toLowerCase();
  return proto === 'https' || (proto === undefined && stage !== 'local');
}

function attributes(secure: boolean, maxAge: number): string {
  return `Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that signs the browser in with `token` for SESSION_SECONDS. */
export function sessionSetCookie(
  token: string,
  secure: boolean,
  nowMs = Date.now(),
): { setCookie: string; expiresAt: number } {
  const expiresAt = Math.floor(nowMs / 1000) + SESSION_SECONDS;
  const name = secure ? SECURE_NAME : PLAIN_NAME;
  return {
    setCookie: `${name}=${signSession(token, expiresAt)}; ${attributes(secure, SESSION_SECONDS)}`,
    expiresAt,
  };
}

/** The Set-Cookie value of a session signed in with Okta as `user`, for SESSION_SECONDS. */
export function userSessionSetCookie(
  clientSecret: string,
  user: SessionUser,
  secure: boolean,
  nowMs = Date.now(),
): { setCookie: string; expiresAt: number; sessionId: string } {
  const expiresAt = Math.floor(nowMs / 1000) + SESSION_SECONDS;
  const sessionId = randomBytes(16).toString('base64url');
  const value = signUserSession(clientSecret, user, expiresAt, sessionId);
  const name = secure ? SECURE_NAME : PLAIN_NAME;
  return {
    setCookie: `${name}=${value}; ${attributes(secure, SESSION_SECONDS)}`,
    expiresAt,
    sessionId,
  };
}

/** The Set-Cookie value that signs the browser out (an empty, already expired cookie). */
export function sessionClearCookie(secure: boolean): string {
  return `${secure ? SECURE_NAME : PLAIN_NAME}=; ${attributes(secure, 0)}`;
}
