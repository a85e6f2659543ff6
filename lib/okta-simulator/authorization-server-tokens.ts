/**
 * The tokens of the fake org's authorization server (authorization-server.ts), with Okta's
 * claims (DESIGN.md §13): access tokens for `api://default` with `scp` as an array, and ID tokens
 * whose profile claims follow the scopes granted.
 */
import { randomBytes } from 'node:crypto';
import { type SigningKeys, accessTokenHash } from './authorization-server-keys';
import type { ResolvedUser } from './authorization-server-users';
import { oauthError } from './okta-errors';

export const API_AUDIENCE = 'api://default';
/** The custom scopes this server grants (client credentials may ask only for these). */
export const CUSTOM_SCOPES = ['events:read'];
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'groups'];
const TOKEN_LIFETIME_S = 3600;
/** The org's identity provider id (Okta itself), the ID token's `idp`. */
const ORG_IDP = '00ofakeoktaorgidp0x7';

export interface TokenContext {
  keys: SigningKeys;
  issuer: string;
  nowMs: number;
  clientId: string;
}

export interface UserGrant {
  user: ResolvedUser;
  scopes: string[];
  nonce: string | undefined;
  /** When the user signed in, seconds. */
  authTime: number;
}

function tokenId(prefix: 'AT' | 'ID'): string {
  return `${prefix}.${randomBytes(24).toString('base64url')}`;
}

/** The ID token's (and userinfo's) claims that depend on the scopes: profile, email. */
export function profileClaims(user: ResolvedUser, scopes: string[]): Record<string, unknown> {
  return {
    ...(scopes.includes('profile') ? { name: user.name, preferred_username: user.login } : {}),
    ...(scopes.includes('email') ? { email: user.login, email_verified: true } : {}),
  };
}

/** The token response of the authorization code grant; an ID token when `openid` was granted. */
export function userTokens(context: TokenContext, grant: UserGrant): Record<string, unknown> {
  const { keys, issuer, clientId } = context;
  const { user, scopes } = grant;
  const iat = Math.floor(context.nowMs / 1000);
  const groups = scopes.includes('groups') ? { groups: [...user.groups] } : {};
  const accessToken = keys.sign({
    ver: 1,
    jti: tokenId('AT'),
    iss: issuer,
    aud: API_AUDIENCE,
    iat,
    exp: iat + TOKEN_LIFETIME_S,
    cid: clientId,
    uid: user.uid,
    scp: scopes,
    auth_time: grant.authTime,
    sub: user.login,
    ...groups,
  });
  const answer: Record<string, unknown> = {
    token_type: 'Bearer',
    expires_in: TOKEN_LIFETIME_S,
    access_token: accessToken,
    scope: scopes.join(' '),
  };
  if (scopes.includes('openid')) {
    answer.id_token = keys.sign({
      ver: 1,
      jti: tokenId('ID'),
      iss: issuer,
      aud: clientId,
      sub: user.uid,
      iat,
      exp: iat + TOKEN_LIFETIME_S,
      idp: ORG_IDP,
      amr: ['pwd'],
      auth_time: grant.authTime,
      at_hash: accessTokenHash(accessToken),
      ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
      ...profileClaims(user, scopes),
      ...groups,
    });
  }
  return answer;
}

/** The token response of client credentials: custom scopes only, `sub` the client id. */
export function clientCredentialsTokens(
  context: TokenContext,
  scopes: string[],
): Record<string, unknown> {
  if (scopes.length === 0) {
    throw oauthError(
      400,
      'invalid_scope',
      "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
    );
  }
  if (scopes.some((s) => OIDC_SCOPES.includes(s))) {
    throw oauthError(
      400,
      'invalid_scope',
      'Client Credentials requests cannot contain OpenID scopes.',
    );
  }
  const unknown = scopes.filter((s) => !CUSTOM_SCOPES.includes(s));
  if (unknown.length > 0) {
    throw oauthError(
      400,
      'invalid_scope',
      `One or more scopes are not configured for the authorization server resource: ${unknown.join(', ')}.`,
    );
  }
  const iat = Math.floor(context.nowMs / 1000);
  return {
    token_type: 'Bearer',
    expires_in: TOKEN_LIFETIME_S,
    access_token: context.keys.sign({
      ver: 1,
      jti: tokenId('AT'),
      iss: context.issuer,
      aud: API_AUDIENCE,
      iat,
      exp: iat + TOKEN_LIFETIME_S,
      cid: context.clientId,
      scp: scopes,
      sub: context.clientId,
    }),
    scope: scopes.join(' '),
  };
}
