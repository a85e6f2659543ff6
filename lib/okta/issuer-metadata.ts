/**
 * An authorization server's metadata by discovery (DESIGN.md §13): OpenID Connect's
 * `{issuer}/.well-known/openid-configuration`, else RFC 8414's `oauth-authorization-server`.
 * Its `issuer` must be exactly the one configured (OpenID Connect Discovery §4.3), and the
 * endpoints used must be URLs as safe as the issuer (https, or http where the issuer is http to
 * this machine). Every failure is an IssuerUnavailableError: the caller decides what it means.
 */
import { IssuerUnavailableError } from '../errors';
import { networkReason } from './okta-auth';

export interface IssuerMetadata {
  issuer: string;
  jwksUri: URL;
  /** Absent from a server that only publishes keys (the read API does not need it). */
  tokenEndpoint: URL | undefined;
}

export interface DiscoveryOptions {
  fetch?: typeof fetch;
  /** Bound on the discovery, both documents included. */
  timeoutMs: number;
}

/**
 * fetch, asked once more when a reused keep-alive connection turns out closed (a Lambda
 * container thawed after minutes keeps sockets the issuer has long dropped): only for GETs.
 */
export function fetchOnFreshSocket(fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await fetchImpl(input, init);
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') throw error;
      return fetchImpl(input, init);
    }
  };
}

/** GET with a bound; 404 is told apart (the next document is tried); any other failure throws. */
async function fetchJson(
  url: string,
  options: DiscoveryOptions,
  signal: AbortSignal,
): Promise<{ found: false } | { found: true; body: unknown }> {
  let response: Response;
  try {
    response = await fetchOnFreshSocket(options.fetch)(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal,
    });
  } catch (error) {
    throw new IssuerUnavailableError(`cannot reach ${url}: ${networkReason(error)}`, {
      cause: error,
    });
  }
  if (response.status === 404) return { found: false };
  if (!response.ok) throw new IssuerUnavailableError(`${url} answered ${response.status}`);
  try {
    return { found: true, body: await response.json() };
  } catch (error) {
    throw new IssuerUnavailableError(`${url} did not answer JSON`, { cause: error });
  }
}

function endpoint(issuer: string, name: string, value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new IssuerUnavailableError(`${issuer}'s discovery document has no valid ${name}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== new URL(issuer).protocol) {
    throw new IssuerUnavailableError(`${issuer}'s ${name} is not https`);
  }
  return url;
}

export async function discoverIssuer(
  issuer: string,
  options: DiscoveryOptions,
): Promise<IssuerMetadata> {
  let metadata: Record<string, unknown> | undefined;
  const signal = AbortSignal.timeout(options.timeoutMs); // one bound for both documents
  for (const document of ['openid-configuration', 'oauth-authorization-server']) {
    const answer = await fetchJson(`${issuer}/.well-known/${document}`, options, signal);
    if (answer.found) {
      metadata = (answer.body ?? {}) as Record<string, unknown>;
      break;
    }
  }
  if (metadata === undefined) {
    throw new IssuerUnavailableError(`${issuer} publishes no discovery document (404)`);
  }
  // A misconfiguration rather than an outage, but no token can be judged or got either way.
  if (metadata.issuer !== issuer) {
    throw new IssuerUnavailableError(
      `${issuer}'s discovery document names another issuer (${String(metadata.issuer).slice(0, 200)}): check OKTA_ISSUER`,
    );
  }
  const jwksUri = endpoint(issuer, 'jwks_uri', metadata.jwks_uri);
  if (jwksUri === undefined) {
    throw new IssuerUnavailableError(`${issuer}'s discovery document has no jwks_uri`);
  }
  return {
    issuer,
    jwksUri,
    tokenEndpoint: endpoint(issuer, 'token_endpoint', metadata.token_endpoint),
  };
}
