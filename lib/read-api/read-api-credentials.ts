/**
 * How `npm run events -- … --url U` proves itself to the read API: a bearer token given as is
 * (--token or EVENTS_API_TOKEN: a static token, or an Okta access token, which is a JWT), or,
 * with none given, an access token the CLI gets itself from the custom authorization server
 * (OKTA_ISSUER) with the service app's client credentials (OKTA_CLIENT_ID + OKTA_PRIVATE_KEY,
 * private_key_jwt: the reconciler's app and key), for the scope OKTA_API_SCOPES (events:read).
 * No shared secret is then needed at all. The token is reused until shortly before it expires.
 */
import { DEFAULT_API_SCOPE, parseIssuer } from '../config';
import { discoverIssuer } from '../okta/issuer-metadata';
import { OktaAuth, parsePrivateKey } from '../okta/okta-auth';
import { ReadApiError } from './read-api-client';

/** Gives the Authorization header value for each request. */
export interface BearerSource {
  authorization(): Promise<string>;
}

/** A discovery or token request gives up after this: a CLI waits longer than a Lambda. */
const TOKEN_REQUEST_TIMEOUT_MS = 15_000;

class ClientCredentialsToken implements BearerSource {
  private auth: Promise<OktaAuth> | undefined;

  constructor(
    private readonly issuer: string,
    private readonly clientId: string,
    private readonly privateKeyText: string,
    private readonly scopes: string[],
  ) {}

  private async oktaAuth(): Promise<OktaAuth> {
    const { key, keyId } = parsePrivateKey(this.privateKeyText);
    const { tokenEndpoint } = await discoverIssuer(this.issuer, {
      timeoutMs: TOKEN_REQUEST_TIMEOUT_MS,
    });
    if (tokenEndpoint === undefined) {
      throw new Error(`${this.issuer}'s discovery document has no token_endpoint`);
    }
    // The assertion's audience is this server's token endpoint, not the org's (okta-auth.ts).
    return new OktaAuth(
      this.issuer,
      { kind: 'privateKeyJwt', clientId: this.clientId, privateKey: key, keyId },
      this.scopes,
      { tokenUrl: tokenEndpoint.href },
    );
  }

  async authorization(): Promise<string> {
    try {
      this.auth ??= this.oktaAuth();
      return await (await this.auth).authorization();
    } catch (error) {
      this.auth = undefined; // not kept: the next request tries again
      throw new ReadApiError(
        `cannot get an access token for the read API from OKTA_ISSUER with OKTA_CLIENT_ID ${this.clientId}: ${(error as Error).message}`,
      );
    }
  }
}

/**
 * The read API credentials of the CLI: `token` when given, else client credentials when
 * OKTA_ISSUER, OKTA_CLIENT_ID and OKTA_PRIVATE_KEY are all set, else none (the read API
 * then answers 401, or serves the open local stage).
 */
export function readApiCredentials(
  token: string | undefined,
  env: NodeJS.ProcessEnv,
): string | BearerSource | undefined {
  if (token?.trim()) return token.trim();
  const issuer = env.OKTA_ISSUER?.trim();
  const clientId = env.OKTA_CLIENT_ID?.trim();
  const privateKey = env.OKTA_PRIVATE_KEY?.trim();
  if (!issuer || !clientId || !privateKey) return undefined;
  const scopes = (env.OKTA_API_SCOPES ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  return new ClientCredentialsToken(
    parseIssuer(issuer),
    clientId,
    privateKey,
    scopes.length > 0 ? scopes : [DEFAULT_API_SCOPE],
  );
}
