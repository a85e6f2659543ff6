/**
 * Plain-HTTP steps against the fake org's authorization server (lib/okta-simulator/
 * authorization-server.ts), as a browser and a relying party make them: PKCE, the authorize
 * redirect, the token request.
 */
import { type KeyObject, createHash, randomBytes, sign } from 'node:crypto';
import { createRemoteJWKSet } from 'jose';
import { DEFAULT_EVENT_BROWSER_APP, type FakeOrg } from '../../lib/okta-simulator/fake-org';

export const APP = DEFAULT_EVENT_BROWSER_APP;
export const REDIRECT = APP.redirectUris[0]!;
export const SECRET = APP.clientSecret!;

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The event browser's authorize URL; an undefined override leaves the parameter out. */
export function authorizeUrl(
  issuer: string,
  overrides: Record<string, string | undefined> = {},
  challenge?: string,
): URL {
  const url = new URL(`${issuer}/v1/authorize`);
  const params: Record<string, string | undefined> = {
    client_id: APP.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid profile email groups',
    state: 'state-123',
    nonce: 'nonce-456',
    code_challenge: challenge ?? pkce().challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url;
}

/** Where a request redirects to; anything but a 302 fails with what came instead. */
export async function redirected(url: URL | string, init: RequestInit = {}): Promise<URL> {
  const response = await fetch(url, { ...init, redirect: 'manual' });
  if (response.status !== 302) {
    throw new Error(`expected a 302 from ${url}, got ${response.status}: ${await response.text()}`);
  }
  return new URL(response.headers.get('location')!);
}

/** A code for `login` through auto-login, with its verifier. */
export async function codeFor(
  org: FakeOrg,
  login = 'alice@example.com',
  scope = 'openid profile email groups',
) {
  const { verifier, challenge } = pkce();
  org.authorizationServer.setAutoLogin(login);
  try {
    const back = await redirected(
      authorizeUrl(org.authorizationServer.issuer, { scope }, challenge),
    );
    return { code: back.searchParams.get('code')!, verifier };
  } finally {
    org.authorizationServer.setAutoLogin(undefined);
  }
}

export function basic(id = APP.clientId, secret = SECRET): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export async function tokenRequest(
  issuer: string,
  form: Record<string, string>,
  authorization?: string,
) {
  const response = await fetch(`${issuer}/v1/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(authorization ? { Authorization: authorization } : {}),
    },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The event browser's code exchange (client_secret_basic). */
export async function exchange(
  issuer: string,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
) {
  const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT };
  return tokenRequest(issuer, { ...form, code_verifier: verifier, ...extra }, basic());
}

/** A private_key_jwt client assertion (RS256, iss = sub = the client id). */
export function clientAssertion(clientId: string, privateKey: KeyObject, aud: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${encode({ alg: 'RS256' })}.${encode({
    iss: clientId,
    sub: clientId,
    aud,
    iat: now,
    exp: now + 300,
    jti: randomBytes(12).toString('hex'),
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

export function jwks(issuer: string) {
  return createRemoteJWKSet(new URL(`${issuer}/v1/keys`));
}

/** A JWT's claims, unverified (the tests verify with jose where it matters). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}
