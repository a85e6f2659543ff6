/**
 * The apps of the fake org's authorization server (authorization-server.ts) and how they
 * authenticate at its token and revocation endpoints.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { oauthError } from './okta-errors';

export interface FakeOidcApp {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** client_credentials allowed with this secret or with private_key_jwt for the org's service apps */
  grantTypes: ('authorization_code' | 'client_credentials')[];
}

export const DEFAULT_EVENT_BROWSER_APP: FakeOidcApp = {
  clientId: '0oafakeeventbrowser',
  // A fake, local-only credential: the fake org is no security boundary.
  clientSecret: 'fake-event-browser-client-secret',
  redirectUris: ['http://localhost:1337/ui/callback', 'http://127.0.0.1:1337/ui/callback'],
  postLogoutRedirectUris: ['http://localhost:1337/ui', 'http://127.0.0.1:1337/ui'],
  grantTypes: ['authorization_code'],
};

export interface AuthenticatedClient {
  clientId: string;
  grantTypes: FakeOidcApp['grantTypes'];
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * client_secret_basic, client_secret_post, or private_key_jwt for the org's service apps:
 * exactly one of them.
 */
export function authenticateClient(
  req: IncomingMessage,
  form: URLSearchParams,
  apps: ReadonlyMap<string, FakeOidcApp>,
  tokenUrl: string,
  verifyClientAssertion: (req: IncomingMessage, assertion: string, audience: string) => string,
): AuthenticatedClient {
  const failed = () =>
    oauthError(
      401,
      'invalid_client',
      'Client authentication failed. Either the client or the client credentials are invalid.',
    );
  const header = req.headers.authorization ?? '';
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  const assertion = form.get('client_assertion');
  const postSecret = form.get('client_secret');
  const methods = [basic, assertion, postSecret].filter((m) => m !== null).length;
  if (methods > 1) {
    throw oauthError(
      400,
      'invalid_request',
      'Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.',
    );
  }
  if (assertion !== null) {
    if (
      form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
    ) {
      throw oauthError(400, 'invalid_request', "The 'client_assertion_type' parameter is invalid.");
    }
    const clientId = verifyClientAssertion(req, assertion, tokenUrl);
    return { clientId, grantTypes: ['client_credentials'] };
  }
  let clientId: string;
  let secret: string;
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw failed();
    try {
      // RFC 6749 §2.3.1: both halves are form-urlencoded before joining.
      const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      clientId = unform(decoded.slice(0, colon));
      secret = unform(decoded.slice(colon + 1));
    } catch {
      throw failed();
    }
  } else if (postSecret !== null) {
    clientId = form.get('client_id') ?? '';
    secret = postSecret;
  } else {
    throw failed();
  }
  const app = apps.get(clientId);
  if (!app?.clientSecret || !constantTimeEqual(secret, app.clientSecret)) throw failed();
  return { clientId, grantTypes: app.grantTypes };
}
