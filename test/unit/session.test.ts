/**
 * The event browser's session cookie (lib/http/session.ts) and the read API's acceptance of it
 * (authenticateReader): a signed expiry, never the token, refused when altered, expired, or
 * signed with a token that is no longer configured.
 */
import { authenticateReader } from '../../lib/http/auth';
import {
  SESSION_SECONDS,
  isHttps,
  sessionClearCookie,
  sessionCookie,
  sessionSetCookie,
  sessionIdOf,
  signSession,
  signUserSession,
  userSessionSetCookie,
  verifyAnySession,
  verifySession,
} from '../../lib/http/session';
import { loadConfig } from '../../lib/config';
import { RequestError } from '../../lib/errors';

const TOKEN = 'tok-3b9f0c';
const NOW = Date.parse('2026-11-01T08:00:00Z');
const inAnHour = NOW / 1000 + 3600;

function refusal(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestError) return { status: error.statusCode, message: error.message };
    throw error;
  }
  throw new Error('not refused');
}

describe('signSession / verifySession', () => {
  it('accepts its own signature until the expiry, and holds no trace of the token', () => {
    const value = signSession(TOKEN, inAnHour);
    expect(value).toMatch(/^\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain(TOKEN);
    expect(verifySession(value, [TOKEN], NOW)).toBe(inAnHour);
    expect(verifySession(value, [TOKEN], inAnHour * 1000 - 1)).toBe(inAnHour);
    expect(verifySession(value, [TOKEN], inAnHour * 1000)).toBeUndefined();
  });

  it('refuses a changed expiry, a changed signature, another token, or garbage', () => {
    const value = signSession(TOKEN, inAnHour);
    const [, id, mac] = value.split('.');
    expect(verifySession(`${inAnHour + 86400}.${id}.${mac}`, [TOKEN], NOW)).toBeUndefined();
    const flipped = mac!.startsWith('A') ? `B${mac!.slice(1)}` : `A${mac!.slice(1)}`;
    expect(verifySession(`${inAnHour}.${id}.${flipped}`, [TOKEN], NOW)).toBeUndefined();
    const otherId = id!.startsWith('A') ? `B${id!.slice(1)}` : `A${id!.slice(1)}`;
    expect(verifySession(`${inAnHour}.${otherId}.${mac}`, [TOKEN], NOW)).toBeUndefined();
    expect(verifySession(value, ['another-token'], NOW)).toBeUndefined();
    expect(verifySession(value, [], NOW)).toBeUndefined();
    for (const garbage of ['', TOKEN, `${inAnHour}`, `${inAnHour}.`, `x.${mac}`, `${value}.x`]) {
      expect(verifySession(garbage, [TOKEN], NOW)).toBeUndefined();
    }
  });

  it('keeps sessions of either token during a rotation, and ends those of a withdrawn one', () => {
    const old = signSession('old-token', inAnHour);
    expect(verifySession(old, ['old-token', TOKEN], NOW)).toBe(inAnHour);
    expect(verifySession(old, [TOKEN], NOW)).toBeUndefined();
  });
});

describe('cookies', () => {
  it('on http: HttpOnly, SameSite=Strict, Path=/, a working day long, no Secure', () => {
    const { setCookie, expiresAt } = sessionSetCookie(TOKEN, false, NOW);
    expect(expiresAt).toBe(NOW / 1000 + SESSION_SECONDS);
    const value = /^okta-events-session=([^;]+); /.exec(setCookie)![1]!;
    expect(setCookie).toBe(
      `okta-events-session=${signSession(TOKEN, expiresAt, sessionIdOf(value))}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict`,
    );
    // Every sign-in is a session of its own, revocable alone.
    expect(sessionIdOf(value)).not.toBe(
      sessionIdOf(sessionSetCookie(TOKEN, false, NOW).setCookie.split(/[=;]/)[1]!),
    );
  });

  it('on https: the __Host- prefix and Secure', () => {
    const { setCookie } = sessionSetCookie(TOKEN, true, NOW);
    expect(setCookie).toMatch(
      /^__Host-okta-events-session=\d+\.[\w-]{22}\.[\w-]{43}; Path=\/; .*; Secure$/,
    );
    expect(sessionClearCookie(true)).toBe(
      '__Host-okta-events-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure',
    );
    expect(sessionClearCookie(false)).toBe(
      'okta-events-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict',
    );
  });

  it('finds the session among other cookies, under either name', () => {
    expect(sessionCookie('a=1; okta-events-session=v1.x; b=2')).toBe('v1.x');
    expect(sessionCookie('__Host-okta-events-session=v2; other=3')).toBe('v2');
    expect(sessionCookie('a=1, okta-events-session=joined')).toBe('joined');
    expect(sessionCookie('xokta-events-session=no; okta-events-sessionx=no')).toBeUndefined();
    expect(sessionCookie(undefined)).toBeUndefined();
  });

  it('tells https from X-Forwarded-Proto, and takes a deployed stage as https', () => {
    expect(isHttps({ 'x-forwarded-proto': 'https' }, 'local')).toBe(true);
    expect(isHttps({}, 'local')).toBe(false);
    expect(isHttps({}, 'production')).toBe(true);
    expect(isHttps({ 'x-forwarded-proto': 'http' }, 'staging')).toBe(false);
  });
});

describe('authenticateReader with a session cookie', () => {
  const config = { mayRunOpen: false, eventsApiTokens: ['old-token', TOKEN] };
  const cookie = (value: string) => ({ cookie: `okta-events-session=${value}` });

  it('accepts a valid session as caller "session"', () => {
    expect(authenticateReader(cookie(signSession(TOKEN, inAnHour)), config, NOW)).toBe('session');
    expect(
      authenticateReader(
        { cookie: `__Host-okta-events-session=${signSession('old-token', inAnHour)}` },
        config,
        NOW,
      ),
    ).toBe('session');
  });

  it('refuses an expired, altered or foreign session with 401 and says to sign in again', () => {
    for (const value of [
      signSession(TOKEN, NOW / 1000 - 1),
      signSession('withdrawn', inAnHour),
      `${inAnHour}.${'A'.repeat(43)}`,
    ]) {
      expect(refusal(() => authenticateReader(cookie(value), config, NOW))).toEqual({
        status: 401,
        message: 'The session has ended or its token was withdrawn: sign in again.',
      });
    }
  });

  it('lets a bearer header decide when both are sent', () => {
    const headers = { authorization: 'Bearer wrong', ...cookie(signSession(TOKEN, inAnHour)) };
    expect(refusal(() => authenticateReader(headers, config, NOW)).status).toBe(401);
    expect(authenticateReader({ authorization: `Bearer ${TOKEN}` }, config, NOW)).toBe('reader');
  });

  it('without a token configured: open on the local stage, off (403) elsewhere, cookie or not', () => {
    const session = cookie(signSession(TOKEN, inAnHour));
    expect(authenticateReader(session, { mayRunOpen: true, eventsApiTokens: [] }, NOW)).toBe(
      'unauthenticated',
    );
    expect(
      refusal(() => authenticateReader(session, { mayRunOpen: false, eventsApiTokens: [] }, NOW))
        .status,
    ).toBe(403);
  });
});

describe('sessions signed in with Okta', () => {
  const CLIENT_SECRET = 'ui-client-secret-9d2e';
  const alice = { login: 'alice@example.com', groups: ['okta-events-readers'] };
  const keys = { tokens: [TOKEN], uiClientSecret: CLIENT_SECRET };
  const signIn = loadConfig({
    OKTA_ISSUER: 'https://acme.okta.com/oauth2/default',
    OKTA_UI_CLIENT_ID: '0oaeventbrowser',
    OKTA_UI_CLIENT_SECRET: CLIENT_SECRET,
  }).signIn;
  const config = { mayRunOpen: false, eventsApiTokens: [], signIn };

  it('carry the login and groups, signed with the client secret, until the expiry', () => {
    const value = signUserSession(CLIENT_SECRET, alice, inAnHour);
    expect(value).not.toContain(CLIENT_SECRET);
    const session = verifyAnySession(value, keys, NOW);
    expect(session).toEqual({ expiresAt: inAnHour, sessionId: sessionIdOf(value), user: alice });
    expect(verifyAnySession(value, keys, inAnHour * 1000)).toBeUndefined();
    // A token session is still verified by the same call.
    expect(verifyAnySession(signSession(TOKEN, inAnHour), keys, NOW)?.user).toBeUndefined();
  });

  it('are refused with another client secret (rotated), a changed login, or no secret', () => {
    const value = signUserSession(CLIENT_SECRET, alice, inAnHour);
    expect(verifyAnySession(value, { ...keys, uiClientSecret: 'rotated' }, NOW)).toBeUndefined();
    expect(verifyAnySession(value, { ...keys, uiClientSecret: undefined }, NOW)).toBeUndefined();
    const [u, expiry, id, , mac] = value.split('.');
    const mallory = Buffer.from(JSON.stringify({ u: 'mallory', g: alice.groups })).toString(
      'base64url',
    );
    expect(verifyAnySession([u, expiry, id, mallory, mac].join('.'), keys, NOW)).toBeUndefined();
    // Nor can a token session's signature stand in for one.
    expect(verifyAnySession(`u.${signSession(TOKEN, inAnHour)}`, keys, NOW)).toBeUndefined();
  });

  it('make the read API caller a session with the user and groups', () => {
    const value = signUserSession(CLIENT_SECRET, alice, inAnHour);
    expect(authenticateReader({ cookie: `okta-events-session=${value}` }, config, NOW)).toEqual({
      caller: 'session',
      user: alice.login,
      groups: alice.groups,
    });
    // With Okta sign-in configured and no token, the read API is not open, even locally.
    expect(refusal(() => authenticateReader({}, { ...config, mayRunOpen: true }, NOW)).status).toBe(
      401,
    );
  });

  it('stay under 4 KB as a Set-Cookie, login and groups included', () => {
    const many = { login: 'a'.repeat(100), groups: Array.from({ length: 60 }, (_, i) => `g${i}`) };
    const { setCookie } = userSessionSetCookie(CLIENT_SECRET, many, true, NOW);
    expect(setCookie).toMatch(/^__Host-okta-events-session=u\./);
    expect(Buffer.byteLength(setCookie)).toBeLessThan(4096);
  });
});
