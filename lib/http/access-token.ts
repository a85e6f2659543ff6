/**
 * The read API's Okta access tokens (`Authorization: Bearer <JWT>` from a custom authorization
 * server, DESIGN.md §13), verified here with jose against the issuer's published keys:
 * issuer, audience, RS256 only, expiry and not-before with a small skew, then what the token
 * may do (a scope in `scp` or a group in `groups`) and which client (`cid`) it was issued to.
 *
 * The issuer's metadata (discovery) and keys are cached per container; the keys are fetched
 * again when a token names a `kid` not seen yet (Okta rotates about four times a year), at
 * most once per cooldown. A failure to reach the issuer is an IssuerUnavailableError (503):
 * the token may well be valid. Refusals are BearerTokenErrors; lib/http/http.ts turns them
 * into 401/403 with a WWW-Authenticate challenge.
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { SignInConfig } from '../config';
import { BearerTokenError, IssuerUnavailableError } from '../errors';
import { DocumentTooLargeError, discoverIssuer, issuerFetch } from '../okta/issuer-metadata';
import { networkReason } from '../okta/okta-auth';

/** Clocks of Okta and Lambda differ by a little; 30 s keeps a fresh token from being refused. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/**
 * Discovery (both documents together) and the keys are each bounded: both slow on a cold
 * container, 2 + 2 s still leaves the read API's 6 s function timeout time to answer.
 */
export const ISSUER_REQUEST_TIMEOUT_MS = 2000;

/** Three base64url parts (the signature may be empty, as in `alg: none`): a JWT, not a static token. */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

export type AccessTokenPolicy = Pick<
  SignInConfig,
  'apiAudience' | 'apiScopes' | 'apiGroups' | 'apiClientIds' | 'jwksRefetchCooldownMs'
> & { issuer: string };

type KeyResolver = ReturnType<typeof createRemoteJWKSet>;

/** RFC 6750 allows only printable ASCII without `"` and `\` in error_description. */
function challengeText(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ');
}

function invalidToken(why: string): BearerTokenError {
  return new BearerTokenError(
    401,
    'invalid_token',
    `The access token is refused: ${why}.`,
    `Bearer error="invalid_token", error_description="${challengeText(why)}"`,
  );
}

function insufficientScope(policy: AccessTokenPolicy): BearerTokenError {
  const scopes = policy.apiScopes.join(' ');
  const groups =
    policy.apiGroups.length > 0 ? ` nor a group of ${policy.apiGroups.join(', ')}` : '';
  return new BearerTokenError(
    403,
    'insufficient_scope',
    `The access token is valid but grants neither the scope ${policy.apiScopes.join(' or ')}${groups}: ask the authorization server for scope ${scopes}.`,
    `Bearer error="insufficient_scope", scope="${challengeText(scopes)}"`,
  );
}

/** `scp` is an array at Okta; a space-separated string (RFC 9068's `scope`) is accepted too. */
function claimList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  return [];
}

/**
 * `groups` is an array at Okta. Anything else is at most one group name, never split: group
 * names hold spaces, and "Not okta-events-readers" must not grant okta-events-readers.
 */
function groupList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/** Why jose refused a token, in words for the one-line log and error_description. */
function refusalReason(error: unknown, token: string): string | undefined {
  if (!(error instanceof errors.JOSEError)) return undefined;
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'it was issued by another issuer (iss)';
    if (error.claim === 'aud') return 'it is for another audience (aud)';
    if (error.claim === 'nbf') return 'it is not valid yet (nbf)';
    return `its ${error.claim} claim is ${error.reason === 'missing' ? 'missing' : 'not valid'}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    let alg = 'its algorithm';
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.alg === 'string') alg = `alg ${header.alg.slice(0, 20)}`;
    } catch {
      // the generic wording then
    }
    return `${challengeText(alg)} is not allowed (RS256 only)`;
  }
  if (error instanceof errors.JWKSNoMatchingKey)
    return 'it is signed with a key (kid) the issuer does not publish';
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return 'it names no key (kid) and the issuer publishes several';
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'its signature does not verify';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'it is not a well-formed signed JWT';
  // jose says so of an unknown `crit` parameter (RFC 7515 §4.1.11), or of a key type.
  if (error instanceof errors.JOSENotSupported)
    return 'it uses a critical header parameter (crit) or a key this API does not support';
  return undefined;
}

/** A verified token's subject (a user's login, or a service app's client id) and groups. */
export interface TokenHolder {
  sub: string;
  groups: string[];
}

interface IssuerKeys {
  keys: KeyResolver;
}

export interface AccessTokenVerifierOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** One per container: the issuer's metadata and keys are cached in it. */
export class AccessTokenVerifier {
  private readonly issuers = new Map<string, Promise<IssuerKeys>>();

  constructor(private readonly options: AccessTokenVerifierOptions = {}) {}

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? ISSUER_REQUEST_TIMEOUT_MS;
  }

  /** The issuer's keys, found by discovery. */
  private async discover(issuer: string, cooldownMs: number): Promise<IssuerKeys> {
    const { jwksUri } = await discoverIssuer(issuer, {
      fetch: this.options.fetch,
      timeoutMs: this.timeoutMs,
    });
    const keys = createRemoteJWKSet(jwksUri, {
      timeoutDuration: this.timeoutMs,
      cooldownDuration: cooldownMs,
      [customFetch]: issuerFetch(this.options.fetch),
    });
    return { keys };
  }

  private issuerKeys({ issuer, jwksRefetchCooldownMs }: AccessTokenPolicy): Promise<IssuerKeys> {
    let pending = this.issuers.get(issuer);
    if (pending === undefined) {
      pending = this.discover(issuer, jwksRefetchCooldownMs);
      // A failure is not cached: the next request asks again.
      pending.catch(() => this.issuers.delete(issuer));
      this.issuers.set(issuer, pending);
    }
    return pending;
  }

  /** Who holds a valid token allowed to read; else a BearerTokenError or a 503. */
  async verify(token: string, policy: AccessTokenPolicy, nowMs?: number): Promise<TokenHolder> {
    const { keys } = await this.issuerKeys(policy);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header, input) => {
          try {
            return await keys(header, input);
          } catch (error) {
            // Fetching the keys failed (network, timeout, not 200, not a key set): not the token's fault.
            if (
              !(error instanceof errors.JOSEError) ||
              error instanceof errors.JWKSTimeout ||
              error instanceof errors.JWKSInvalid ||
              error.code === 'ERR_JOSE_GENERIC'
            ) {
              const { cause } = error as Error;
              const why =
                cause instanceof DocumentTooLargeError
                  ? cause.message
                  : error instanceof errors.JOSEError
                    ? error.message
                    : networkReason(error);
              throw new IssuerUnavailableError(`cannot fetch ${policy.issuer}'s keys: ${why}`, {
                cause: error,
              });
            }
            throw error;
          }
        },
        {
          issuer: policy.issuer,
          audience: policy.apiAudience,
          algorithms: ['RS256'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp'],
          ...(nowMs === undefined ? {} : { currentDate: new Date(nowMs) }),
        },
      ));
    } catch (error) {
      if (error instanceof IssuerUnavailableError) throw error;
      const why = refusalReason(error, token);
      if (why === undefined) throw error;
      throw invalidToken(why);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw invalidToken('it has no subject (sub)');
    }
    // Another client's token is refused like a wrong audience (401, not 403): no scope would
    // make it acceptable, so insufficient_scope would send the client after the wrong fix.
    if (policy.apiClientIds.length > 0) {
      const cid = typeof payload.cid === 'string' ? payload.cid : undefined;
      if (cid === undefined || !policy.apiClientIds.includes(cid)) {
        throw invalidToken('it was issued to a client (cid) this API does not accept');
      }
    }
    const scopes = claimList(payload.scp ?? payload.scope);
    const groups = groupList(payload.groups);
    if (
      !scopes.some((scope) => policy.apiScopes.includes(scope)) &&
      !groups.some((group) => policy.apiGroups.includes(group))
    ) {
      throw insufficientScope(policy);
    }
    return { sub: payload.sub as string, groups };
  }
}

let containerVerifier: AccessTokenVerifier | undefined;

/** The container's verifier: its caches live as long as the Lambda container. */
export function accessTokenVerifier(): AccessTokenVerifier {
  return (containerVerifier ??= new AccessTokenVerifier());
}
