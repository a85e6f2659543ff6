/**
 * The fake org's service-app authentication (fake-org.ts serves it): `POST /oauth2/v1/token`,
 * client credentials with `private_key_jwt` (the assertion's RS256 signature against the app's
 * registered public key, `iss` = `sub` = client id, `aud` = the token URL, `exp` in the future
 * and at most an hour away, `jti` never reused, the scopes granted to the app), and the check of
 * each API request's SSWS token or bearer access token and its scopes.
 */
import { type KeyObject, createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpRefusal, oauthError, oktaError } from './okta-errors';

const MAX_ASSERTION_LIFETIME_S = 3600;
export const LOGS_SCOPE = 'okta.logs.read';
export const EVENT_HOOKS_SCOPE = 'okta.eventHooks.read';

export interface FakeOrgClient {
  clientId: string;
  /** The app's registered public key (a private key is accepted too: its public half is used). */
  publicKey: KeyObject | string;
  keyId?: string;
  /** Scopes granted to the app; default okta.logs.read and okta.eventHooks.read. */
  scopes?: string[];
}

export interface ServiceAppAuthOptions {
  /** Accepted SSWS API token; none means only OAuth access tokens are accepted. */
  apiToken?: string;
  clients?: FakeOrgClient[];
  accessTokenLifetimeSeconds?: number;
}

interface AccessToken {
  scopes: Set<string>;
  expiresAt: number;
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

/** `baseUrl` is the org's origin as a request reached it (the default audience of assertions). */
export function serviceAppAuth(
  options: ServiceAppAuthOptions,
  now: () => number,
  baseUrl: (req: IncomingMessage) => string,
) {
  const tokens = new Map<string, AccessToken>();
  const usedJtis = new Set<string>();
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

  return { authenticate, verifyAssertion, token };
}
