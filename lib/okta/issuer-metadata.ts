/**
 * An authorization server's metadata by discovery (DESIGN.md §13): OpenID Connect's
 * `{issuer}/.well-known/openid-configuration`, else RFC 8414's `oauth-authorization-server`.
 * Its `issuer` must be exactly the one configured (OpenID Connect Discovery §4.3), and the
 * endpoints used must be URLs as safe as the issuer (https, or http to this machine only, as
 * OKTA_ISSUER itself). Every failure is an IssuerUnavailableError: the caller decides what it means.
 */
import { assertCredentialSafe } from '../config';
import { IssuerUnavailableError } from '../errors';
import { networkReason } from './okta-auth';

/**
 * Okta's discovery document is about 5 KB and its key set 2 KB: an answer larger than this is
 * not one, and is not read into a container's memory whole.
 */
export const MAX_ISSUER_DOCUMENT_BYTES = 1024 * 1024;

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

/** Reading an answer's body stopped at MAX_ISSUER_DOCUMENT_BYTES. */
export class DocumentTooLargeError extends Error {
  override name = 'DocumentTooLargeError';
}

/**
 * fetch whose answers' bodies end in an error past `maxBytes`: reading one (`json()`) then fails
 * after at most that much, whatever the server sends or its Content-Length says.
 */
export function fetchAtMost(maxBytes: number, fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    if (response.body === null) return response;
    let read = 0;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          read += chunk.byteLength;
          if (read > maxBytes) {
            const mb = maxBytes / 1024 / 1024;
            controller.error(new DocumentTooLargeError(`${String(input)} is larger than ${mb} MB`));
          } else controller.enqueue(chunk);
        },
      }),
    );
    const { status, statusText, headers } = response;
    return new Response(body, { status, statusText, headers });
  };
}

/** The fetch used for an issuer's documents: bounded in size, retried on a stale socket. */
export function issuerFetch(fetchImpl: typeof fetch = fetch): typeof fetch {
  return fetchOnFreshSocket(fetchAtMost(MAX_ISSUER_DOCUMENT_BYTES, fetchImpl));
}

/** GET with a bound; 404 is told apart (the next document is tried); any other failure throws. */
async function fetchJson(
  url: string,
  options: DiscoveryOptions,
  signal: AbortSignal,
): Promise<{ found: false } | { found: true; body: unknown }> {
  let response: Response;
  try {
    response = await issuerFetch(options.fetch)(url, {
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
    const why =
      error instanceof DocumentTooLargeError ? error.message : `${url} did not answer JSON`;
    throw new IssuerUnavailableError(why, { cause: error });
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
  // Not only as safe as the issuer's scheme: a local http issuer must not send the CLI's
  // private-key assertion, or the key fetches, in clear text to another host.
  try {
    assertCredentialSafe(url, name);
  } catch {
    throw new IssuerUnavailableError(
      `${issuer}'s ${name} is not https (http only to this machine): ${url.origin}`,
    );
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
