/**
 * How the reconciler proves itself to Okta's management API (DESIGN.md §8):
 *
 * - an SSWS API token (`Authorization: SSWS <token>`), or
 * - an OAuth 2.0 service app, client credentials with `private_key_jwt`: a client assertion
 *   (RS256, iss = sub = client id, aud = https://<org>/oauth2/v1/token, exp ≤ 1 h) is exchanged at
 *   the org authorization server for an access token with the scopes asked for; the token is
 *   reused until shortly before it expires.
 *
 * Signing uses node:crypto only. Keys and tokens never appear in messages or logs.
 */
import { type KeyObject, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { ConfigError, OktaApiError } from '../errors';

export type OktaCredentials =
  | { kind: 'ssws'; token: string }
  | { kind: 'privateKeyJwt'; clientId: string; privateKey: KeyObject; keyId: string | undefined };

/** Okta refuses a client assertion whose `exp` is more than an hour away; 5 min is plenty. */
export const ASSERTION_LIFETIME_SECONDS = 300;
/** Renew an access token this long before Okta says it expires (clock skew, slow requests). */
const TOKEN_RENEW_MARGIN_MS = 60_000;
const TOKEN_REQUEST_TIMEOUT_MS = 15_000;

/**
 * The RSA private key of a service app, as PEM (PKCS#8 or PKCS#1, as Okta's Admin Console
 * generates it) or as a private JWK (JSON, possibly carrying its `kid`). A PEM pasted with
 * literal `\n` sequences (one-line environment values) is accepted too.
 */
export function parsePrivateKey(
  text: string,
  name = 'OKTA_PRIVATE_KEY',
): {
  key: KeyObject;
  keyId: string | undefined;
} {
  const trimmed = text.trim();
  let key: KeyObject;
  let keyId: string | undefined;
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as { kid?: unknown; d?: unknown };
      if (typeof jwk.d !== 'string') throw new Error('a public JWK');
      key = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      keyId = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined;
    } else {
      const pem =
        trimmed.includes('\\n') && !trimmed.includes('\n')
          ? trimmed.replace(/\\n/g, '\n')
          : trimmed;
      key = createPrivateKey(pem);
    }
  } catch {
    // crypto's own message is not shown: nothing of the value may reach a log.
    throw new ConfigError(
      `${name} is not a private key: give the service app's RSA private key as PEM (-----BEGIN PRIVATE KEY-----) or as a private JWK (JSON with "d")`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(
      `${name} is a ${key.asymmetricKeyType ?? 'non-RSA'} key: Okta's service apps sign client assertions with RSA (RS256)`,
    );
  }
  return { key, keyId };
}

/** The org authorization server's token endpoint: also the assertion's audience. */
export function tokenEndpoint(orgUrl: string): string {
  return `${orgUrl}/oauth2/v1/token`;
}

/** A signed client assertion (RFC 7523) for Okta's `private_key_jwt` client authentication. */
export function clientAssertion(options: {
  clientId: string;
  orgUrl: string;
  privateKey: KeyObject;
  keyId?: string;
  nowMs?: number;
  lifetimeSeconds?: number;
  /** The token endpoint the assertion is for; default the org authorization server's. */
  audience?: string;
}): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(options.keyId ? { kid: options.keyId } : {}) };
  const claims = {
    iss: options.clientId,
    sub: options.clientId,
    aud: options.audience ?? tokenEndpoint(options.orgUrl),
    iat,
    exp: iat + (options.lifetimeSeconds ?? ASSERTION_LIFETIME_SECONDS),
    jti: randomUUID(), // Okta refuses an assertion it has seen before
  };
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), options.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

interface CachedToken {
  value: string;
  renewAt: number;
}

/** Gives the Authorization header value for Okta API requests; one per org and credentials. */
export class OktaAuth {
  private token: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  /** Token endpoint requests made (for the pass's request count). */
  tokenRequests = 0;

  constructor(
    readonly orgUrl: string,
    readonly credentials: OktaCredentials,
    /** OAuth scopes to ask for; ignored for SSWS. */
    readonly scopes: readonly string[],
    private readonly deps: {
      fetch?: typeof fetch;
      now?: () => number;
      /** A custom authorization server's token endpoint (from its discovery) instead of the org's. */
      tokenUrl?: string;
    } = {},
  ) {}

  private get tokenUrl(): string {
    return this.deps.tokenUrl ?? tokenEndpoint(this.orgUrl);
  }

  get kind(): OktaCredentials['kind'] {
    return this.credentials.kind;
  }

  /** What the credentials are, for messages: never the values. */
  describe(): string {
    return this.credentials.kind === 'ssws'
      ? 'the API token (OKTA_API_TOKEN)'
      : `the service app ${this.credentials.clientId} (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY)`;
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    if (this.credentials.kind === 'ssws') return `SSWS ${this.credentials.token}`;
    const now = (this.deps.now ?? Date.now)();
    if (this.token && now < this.token.renewAt) return `Bearer ${this.token.value}`;
    this.pending ??= this.requestToken(this.credentials, signal).finally(() => {
      this.pending = undefined;
    });
    this.token = await this.pending;
    return `Bearer ${this.token.value}`;
  }

  /** Forget the access token (Okta answered 401 to it: revoked, or the app's keys changed). */
  invalidate(): void {
    this.token = undefined;
  }

  private async requestToken(
    credentials: Extract<OktaCredentials, { kind: 'privateKeyJwt' }>,
    signal?: AbortSignal,
  ): Promise<CachedToken> {
    const now = this.deps.now ?? Date.now;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.scopes.join(' '),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion({
        clientId: credentials.clientId,
        orgUrl: this.orgUrl,
        privateKey: credentials.privateKey,
        keyId: credentials.keyId,
        nowMs: now(),
        audience: this.tokenUrl,
      }),
    });
    const timeout = AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS);
    this.tokenRequests++;
    let response: Response;
    let text: string;
    try {
      response = await (this.deps.fetch ?? fetch)(this.tokenUrl, {
        method: 'POST',
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: 'error',
      });
      text = await response.text();
    } catch (error) {
      throw new OktaApiError(
        `cannot reach ${this.tokenUrl}: ${networkReason(error)}`,
        undefined,
        true,
        { cause: error },
      );
    }
    let parsed: {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // described below by status
    }
    if (!response.ok || typeof parsed.access_token !== 'string') {
      const code = typeof parsed.error === 'string' ? parsed.error : `status ${response.status}`;
      const description =
        typeof parsed.error_description === 'string' ? `: ${parsed.error_description}` : '';
      const hint = /dpop/i.test(code)
        ? ' (turn off "Require Demonstrating Proof of Possession (DPoP)" for this service app)'
        : code === 'invalid_scope'
          ? ` (grant the scope${this.scopes.length > 1 ? 's' : ''} ${this.scopes.join(', ')} on the app's Okta API Scopes tab)`
          : code === 'invalid_client'
            ? ' (check OKTA_CLIENT_ID, and that the public key of OKTA_PRIVATE_KEY is registered with the app)'
            : '';
      throw new OktaApiError(
        `Okta refused the token request of ${this.describe()}: ${code}${description}${hint}`,
        response.status,
        response.status >= 500,
      );
    }
    const expiresInMs = (typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600) * 1000;
    return {
      value: parsed.access_token,
      renewAt: now() + Math.max(expiresInMs - TOKEN_RENEW_MARGIN_MS, expiresInMs / 2),
    };
  }
}

/** `ECONNREFUSED`, `ENOTFOUND`, `timeout`: why a request got no answer, in a word. */
export function networkReason(error: unknown): string {
  if ((error as Error)?.name === 'TimeoutError') return 'timeout';
  if ((error as Error)?.name === 'AbortError') return 'aborted';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
