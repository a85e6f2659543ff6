/**
 * Who is calling. Okta proves itself only with the shared secret header (it does not sign
 * payloads); Hookdeck adds an HMAC-SHA256 signature of the raw body.
 *
 * Policy (documented in docs/configuration.md, "Authentication"):
 * - OKTA_AUTH_SECRET set: every request must carry one of its values in OKTA_AUTH_HEADER.
 *   Hookdeck forwards Okta's headers unchanged, so this holds behind Hookdeck too, and a
 *   Hookdeck signature never stands in for it: anyone can post to a public Hookdeck source.
 * - HOOKDECK_SIGNING_SECRET set: a request carrying x-hookdeck-signature(-2) must match one of
 *   its values. With no Okta secret configured, the signature is required on every request.
 * - Neither set: only the local stage under serverless offline runs, open (config.assertSecured).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config, SignInConfig } from '../config';
import { RequestError } from '../errors';
import { type AccessTokenVerifier, accessTokenVerifier, looksLikeJwt } from './access-token';
import { isCrossOrigin, sessionCookie, verifyAnySession } from './session';

export type Caller = 'okta' | 'hookdeck' | 'reader' | 'session' | 'okta-token' | 'unauthenticated';

/** Who is calling, with the person or app behind it where one is known (logged as `user=`). */
export interface Identity {
  caller: Caller;
  /** A signed-in user's login, or an access token's `sub`; never a secret. */
  user?: string;
  /** The user's or token's groups, where the sign-in carried them. */
  groups?: string[];
}

const HOOKDECK_SIGNATURE_HEADERS = ['x-hookdeck-signature', 'x-hookdeck-signature-2'];

// Compare HMACs under a per-container random key: equal-length digests make timingSafeEqual
// usable for inputs of any length, and the time taken says nothing about the secret.
const comparisonKey = randomBytes(32);
function digest(value: string | Buffer): Buffer {
  return createHmac('sha256', comparisonKey).update(value).digest();
}

/** True when `candidate` equals any of `accepted`; every value is compared, no early exit. */
export function matchesAny(candidate: string, accepted: readonly string[]): boolean {
  const candidateDigest = digest(candidate);
  let match = false;
  for (const value of accepted) {
    match = timingSafeEqual(candidateDigest, digest(value)) || match;
  }
  return match;
}

export function hookdeckSignature(rawBody: Buffer, signingSecret: string): string {
  return createHmac('sha256', signingSecret).update(rawBody).digest('base64');
}

/** The event browser offers "Sign in with Okta": an issuer and the web app's client id are set. */
export function oktaSignInConfigured(config: Partial<Pick<Config, 'signIn'>>): boolean {
  return config.signIn?.issuer !== undefined && config.signIn.uiClientId !== undefined;
}

function unauthorized(message: string): RequestError {
  return new RequestError(401, 'unauthorized', message);
}

/**
 * Throws a 401 RequestError unless the request is proven to come from Okta or from Hookdeck under
 * the policy above. Messages name the header to fix, never a value.
 */
export function authenticate(
  headers: Record<string, string>,
  rawBody: Buffer,
  config: Pick<Config, 'oktaAuthHeader' | 'oktaAuthSecrets' | 'hookdeckSigningSecrets'>,
): Caller {
  const { oktaAuthHeader, oktaAuthSecrets, hookdeckSigningSecrets } = config;
  let caller: Caller = 'unauthenticated';

  if (hookdeckSigningSecrets.length > 0) {
    const signatures = HOOKDECK_SIGNATURE_HEADERS.map((h) => headers[h]).filter(
      (s): s is string => s !== undefined && s !== '',
    );
    if (signatures.length > 0) {
      const expected = hookdeckSigningSecrets.map((secret) => hookdeckSignature(rawBody, secret));
      if (!signatures.some((signature) => matchesAny(signature, expected))) {
        throw unauthorized('The x-hookdeck-signature header does not match the request body.');
      }
      caller = 'hookdeck';
    } else if (oktaAuthSecrets.length === 0) {
      throw unauthorized('The request has no x-hookdeck-signature header.');
    }
  }

  if (oktaAuthSecrets.length > 0) {
    const presented = headers[oktaAuthHeader];
    if (presented === undefined || presented === '') {
      throw unauthorized(`The request has no ${oktaAuthHeader} header.`);
    }
    if (!matchesAny(presented, oktaAuthSecrets)) {
      throw unauthorized(`The ${oktaAuthHeader} header does not hold an accepted secret.`);
    }
    if (caller === 'unauthenticated') caller = 'okta';
  }
  return caller;
}

/** What the read API's authentication reads of the sign-in settings (absent: static tokens only). */
export type ReaderSignIn = Pick<
  SignInConfig,
  | 'issuer'
  | 'apiAudience'
  | 'apiScopes'
  | 'apiGroups'
  | 'apiClientIds'
  | 'jwksRefetchCooldownMs'
  | 'readApiStaticTokens'
  | 'uiClientSecret'
>;

/**
 * The bearer branch: a JWT with an issuer configured is an Okta access token
 * (lib/http/access-token.ts); anything else is checked against EVENTS_API_TOKEN, unless static
 * tokens are off on this stage (READ_API_STATIC_TOKENS=false).
 */
function authenticateBearer(
  value: string,
  config: Pick<Config, 'eventsApiTokens'> & { signIn?: ReaderSignIn },
  verifier: AccessTokenVerifier | undefined,
): Caller | Promise<Identity> {
  const { signIn } = config;
  if (signIn?.issuer !== undefined && looksLikeJwt(value)) {
    return (verifier ?? accessTokenVerifier())
      .verify(value, { ...signIn, issuer: signIn.issuer })
      .then(({ sub, groups }) => ({ caller: 'okta-token', user: sub, groups }));
  }
  if (signIn?.readApiStaticTokens === false) {
    throw unauthorized(
      'Static bearer tokens (EVENTS_API_TOKEN) are off on this stage (READ_API_STATIC_TOKENS=false): use an Okta access token.',
    );
  }
  if (!matchesAny(value, config.eventsApiTokens)) {
    throw unauthorized(
      config.eventsApiTokens.length === 0
        ? 'The bearer token is not an Okta access token (a JWT), and this stage has no EVENTS_API_TOKEN.'
        : 'The bearer token is not an accepted EVENTS_API_TOKEN.',
    );
  }
  return 'reader';
}

/**
 * Throws 403 `read_api_disabled` when the read API has no way to authenticate anyone (neither
 * EVENTS_API_TOKEN nor OKTA_ISSUER) off the open local stage; false when it runs open there.
 */
export function assertReadApiEnabled(
  config: Pick<Config, 'mayRunOpen' | 'eventsApiTokens'> & { signIn?: ReaderSignIn },
): boolean {
  if (config.eventsApiTokens.length > 0 || config.signIn?.issuer !== undefined) return true;
  if (config.mayRunOpen) return false;
  throw new RequestError(
    403,
    'read_api_disabled',
    'The read API is off on this stage because neither EVENTS_API_TOKEN nor OKTA_ISSUER is configured.',
  );
}

/**
 * The read API's caller: `Authorization: Bearer <EVENTS_API_TOKEN>`, a credential separate from
 * Okta's secret so that holding one does not grant the other, an Okta access token (with
 * OKTA_ISSUER set), or the event browser's session cookie, signed with such a token or, after
 * signing in with Okta, with the web app's client secret (lib/http/session.ts). A bearer header,
 * when sent, decides. With neither a token nor an issuer configured the read API is open on the
 * local stage under serverless offline and off (403) everywhere else. An access token is
 * verified asynchronously: its result is a Promise.
 */
export function authenticateReader(
  headers: Record<string, string>,
  config: Pick<Config, 'mayRunOpen' | 'eventsApiTokens'> & { signIn?: ReaderSignIn },
  nowMs = Date.now(),
  verifier?: AccessTokenVerifier,
): Caller | Identity | Promise<Identity> {
  if (!assertReadApiEnabled(config)) return 'unauthenticated';
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  if (match) return authenticateBearer(match[1]!.trim(), config, verifier);
  const session = sessionCookie(headers.cookie);
  if (session !== undefined) {
    // A cookie is sent by the browser whoever's page asks: only the event browser's may use it.
    if (isCrossOrigin(headers)) {
      throw new RequestError(
        403,
        'cross_origin',
        "The session cookie is accepted only from the event browser's own page: use a bearer token.",
      );
    }
    const verified = verifyAnySession(
      session,
      { tokens: config.eventsApiTokens, uiClientSecret: config.signIn?.uiClientSecret },
      nowMs,
    );
    if (verified === undefined) {
      throw unauthorized('The session has ended or its token was withdrawn: sign in again.');
    }
    return verified.user
      ? { caller: 'session', user: verified.user.login, groups: verified.user.groups }
      : 'session';
  }
  throw unauthorized('The request has no "Authorization: Bearer <token>" header.');
}
