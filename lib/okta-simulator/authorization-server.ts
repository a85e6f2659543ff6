/**
 * The fake org's custom authorization server `default` (DESIGN.md §13), served by fake-org.ts at
 * `/oauth2/default`: discovery, `v1/authorize` (a login form listing the fake users, or an
 * automatic login), `v1/token` (authorization code with S256 PKCE; client credentials with
 * `private_key_jwt` or a client secret), `v1/keys` (RS256, rotated on request), `v1/logout`,
 * `v1/revoke` and `v1/userinfo`. It refuses what Okta refuses, with Okta's error shapes.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  type AuthenticatedClient,
  DEFAULT_EVENT_BROWSER_APP,
  type FakeOidcApp,
  authenticateClient,
  constantTimeEqual,
} from './authorization-server-clients';
import { SigningKeys, type PublicJwk, s256 } from './authorization-server-keys';
import {
  DEFAULT_FAKE_USERS,
  type FakeUser,
  type ResolvedUser,
  resolveUser,
} from './authorization-server-users';
import {
  CUSTOM_SCOPES,
  OIDC_SCOPES,
  type TokenContext,
  clientCredentialsTokens,
  profileClaims,
  userTokens,
} from './authorization-server-tokens';
import { errorPage, loginPage, signedOutPage } from './authorize-page';
import { HttpRefusal, oauthError, oktaError } from './okta-errors';

export { DEFAULT_EVENT_BROWSER_APP, type FakeOidcApp } from './authorization-server-clients';
export { DEFAULT_FAKE_USERS, type FakeUser, parseFakeUsers } from './authorization-server-users';
export { API_AUDIENCE, CUSTOM_SCOPES } from './authorization-server-tokens';

export interface FakeAuthorizationServerOptions {
  /** Default DEFAULT_FAKE_USERS. */
  users?: FakeUser[];
  /** A login: `/v1/authorize` redirects at once as that user. */
  autoLogin?: string;
  /** Default [DEFAULT_EVENT_BROWSER_APP]. */
  apps?: FakeOidcApp[];
}

export const AUTHORIZATION_SERVER_ID = 'default';
const CLAIMS_SUPPORTED = (
  'ver jti iss sub aud iat exp auth_time amr idp nonce at_hash ' +
  'name preferred_username email email_verified groups'
).split(' ');
const CODE_LIFETIME_MS = 300_000;

export interface Logout {
  clientId: string;
  sub: string;
  at: number;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Why the request was refused (the request log prints it; never a secret). */
  refusal?: string;
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scopes: string[];
  nonce: string | undefined;
  user: ResolvedUser;
  authTime: number;
  expiresAt: number;
}

export interface AuthorizationServerDeps {
  now: () => number;
  /** The fake org's private_key_jwt check of its service apps; answers the client id or throws. */
  verifyClientAssertion: (req: IncomingMessage, assertion: string, audience: string) => string;
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const HTML = { 'Content-Type': 'text/html; charset=utf-8' };

function scopeList(raw: string | null): string[] {
  return [...new Set((raw ?? '').split(/\s+/).filter(Boolean))];
}

/** A refusal may quote the request (a login, a PKCE method): one printable line in the log. */
function oneLine(refusal: string | undefined): string | undefined {
  return refusal?.replace(/\p{Cc}/gu, '?');
}

function html(status: number, body: string, refusal?: string): Answer {
  return { status, headers: HTML, body, refusal: oneLine(refusal) };
}

function redirect(location: string, refusal?: string): Answer {
  return { status: 302, headers: { Location: location }, body: '', refusal: oneLine(refusal) };
}

function json(value: unknown, headers: Record<string, string> = {}): Answer {
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}

export class FakeAuthorizationServer {
  /** Every successful `v1/logout`, in order. */
  readonly logouts: Logout[] = [];
  private origin = '';
  private autoLogin: string | undefined;
  private readonly users = new Map<string, ResolvedUser>();
  private readonly apps = new Map<string, FakeOidcApp>();
  private readonly codes = new Map<string, CodeGrant>();
  private readonly revoked = new Set<string>();
  private readonly keys = new SigningKeys();

  constructor(
    options: FakeAuthorizationServerOptions,
    private readonly deps: AuthorizationServerDeps,
  ) {
    for (const user of options.users ?? DEFAULT_FAKE_USERS) {
      this.users.set(user.login, resolveUser(user));
    }
    for (const app of options.apps ?? [DEFAULT_EVENT_BROWSER_APP]) this.addApp(app);
    this.setAutoLogin(options.autoLogin);
  }

  /** `${org.url}/oauth2/default`. */
  get issuer(): string {
    return `${this.origin}/oauth2/${AUTHORIZATION_SERVER_ID}`;
  }

  /** Called by the fake org once it listens. */
  setOrigin(origin: string): void {
    this.origin = origin;
  }

  /** A new signing key for new tokens; the JWKS keeps the previous one. Answers the new kid. */
  rotateKeys(): string {
    return this.keys.rotate().kid;
  }

  /** Registers an app, or replaces the one with the same client id. */
  addApp(app: FakeOidcApp): void {
    this.apps.set(app.clientId, {
      ...app,
      redirectUris: [...app.redirectUris],
      postLogoutRedirectUris: [...app.postLogoutRedirectUris],
      grantTypes: [...app.grantTypes],
    });
  }

  setAutoLogin(login: string | undefined): void {
    if (login !== undefined && !this.users.has(login)) {
      throw new Error(`auto-login: no user ${login} (users: ${[...this.users.keys()].join(', ')})`);
    }
    this.autoLogin = login;
  }

  /** The users, as the login form lists them. */
  listUsers(): Array<Required<FakeUser> & { uid: string }> {
    return [...this.users.values()].map((u) => ({ ...u, groups: [...u.groups] }));
  }

  /** Requests under `/oauth2/default`; `path` is the rest (`/v1/token`). */
  async handle(req: IncomingMessage, path: string, body: string): Promise<Answer> {
    const method = req.method ?? 'GET';
    const query = new URL(req.url ?? '/', 'http://fake').searchParams;
    if (
      method === 'GET' &&
      (path === '/.well-known/openid-configuration' ||
        path === '/.well-known/oauth-authorization-server')
    ) {
      return json(this.discovery());
    }
    if (method === 'GET' && path === '/v1/keys') {
      return json(this.keys.jwks(), { 'Cache-Control': 'max-age=300' });
    }
    if (path === '/v1/authorize' && method === 'GET') return this.authorize(query, undefined);
    if (path === '/v1/authorize' && method === 'POST') {
      const form = new URLSearchParams(body);
      return this.authorize(form, form.get('login') ?? '');
    }
    if (path === '/v1/token' && method === 'POST')
      return this.token(req, new URLSearchParams(body));
    if (path === '/v1/revoke' && method === 'POST')
      return this.revoke(req, new URLSearchParams(body));
    if (path === '/v1/userinfo' && (method === 'GET' || method === 'POST'))
      return this.userinfo(req);
    if (path === '/v1/logout' && method === 'GET') return this.logout(query);
    throw oktaError(
      404,
      'E0000022',
      `The endpoint does not support the provided HTTP method (fake org: ${method} /oauth2/default${path})`,
    );
  }

  /** Okta's `POST /api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate`. */
  keyRotateApi(serverId: string, body: string): Answer {
    if (serverId !== AUTHORIZATION_SERVER_ID) {
      throw oktaError(
        404,
        'E0000007',
        `Not found: Resource not found: ${serverId} (AuthorizationServer)`,
      );
    }
    let use: unknown;
    try {
      use = (JSON.parse(body) as { use?: unknown }).use;
    } catch {
      use = undefined;
    }
    if (use !== 'sig') {
      throw oktaError(400, 'E0000001', 'Api validation failed: use', [
        'use: The value must be "sig".',
      ]);
    }
    const jwk: PublicJwk = this.keys.rotate();
    return json({ ...jwk, status: 'ACTIVE' });
  }

  private discovery() {
    const issuer = this.issuer;
    return {
      issuer,
      authorization_endpoint: `${issuer}/v1/authorize`,
      token_endpoint: `${issuer}/v1/token`,
      userinfo_endpoint: `${issuer}/v1/userinfo`,
      jwks_uri: `${issuer}/v1/keys`,
      end_session_endpoint: `${issuer}/v1/logout`,
      revocation_endpoint: `${issuer}/v1/revoke`,
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'client_credentials'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: [...OIDC_SCOPES, ...CUSTOM_SCOPES],
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: CLAIMS_SUPPORTED,
      request_parameter_supported: false,
    };
  }

  /**
   * GET shows the login form (or logs in at once with auto-login); POST is the form's answer,
   * `login` the chosen user. Before the redirect URI is known good, errors are an HTML page:
   * redirecting to an unregistered URI would make this an open redirector.
   */
  private authorize(params: URLSearchParams, chosenLogin: string | undefined): Answer {
    const clientId = params.get('client_id') ?? '';
    const app = this.apps.get(clientId);
    if (!app) {
      const why = "Invalid value for 'client_id' parameter.";
      return html(400, errorPage(why), why);
    }
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!app.redirectUris.includes(redirectUri)) {
      const why = `The 'redirect_uri' parameter must be a Login redirect URI in the client app settings (client ${clientId}).`;
      return html(400, errorPage(why), why);
    }
    const state = params.get('state') ?? '';
    const fail = (error: string, description: string) => {
      const location = new URL(redirectUri);
      location.searchParams.set('error', error);
      location.searchParams.set('error_description', description);
      if (state) location.searchParams.set('state', state);
      return redirect(location.href, `${error}: ${description}`);
    };
    if (!app.grantTypes.includes('authorization_code')) {
      return fail(
        'unauthorized_client',
        `The client is not authorized to use the provided grant type. Configured grant types: [${app.grantTypes.join(', ')}].`,
      );
    }
    if (params.get('response_type') !== 'code') {
      return fail(
        'unsupported_response_type',
        'The response type is not supported by the authorization server. Configured response types: [code].',
      );
    }
    if (!state) {
      return fail('invalid_request', "The authorization request must include a 'state' parameter.");
    }
    const scopes = scopeList(params.get('scope'));
    if (scopes.length === 0) {
      return fail('invalid_scope', "The authorization request must include a 'scope' parameter.");
    }
    const supported = [...OIDC_SCOPES, ...CUSTOM_SCOPES];
    const unknown = scopes.filter((s) => !supported.includes(s));
    if (unknown.length > 0) {
      return fail(
        'invalid_scope',
        `One or more scopes are not configured for the authorization server resource: ${unknown.join(', ')}.`,
      );
    }
    const challenge = params.get('code_challenge') ?? '';
    const challengeMethod = params.get('code_challenge_method') ?? '';
    if (!challenge) {
      return fail('invalid_request', 'PKCE code challenge is required by this app (S256).');
    }
    if (challengeMethod !== 'S256') {
      return fail(
        'invalid_request',
        `PKCE code challenge method '${challengeMethod || 'plain'}' is not supported: use S256.`,
      );
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return fail(
        'invalid_request',
        'PKCE code challenge must be a base64url SHA-256 (43 characters).',
      );
    }

    const login = chosenLogin ?? this.autoLogin;
    if (login === undefined) {
      if (params.get('prompt') === 'none') {
        return fail(
          'login_required',
          'The client specified not to prompt, but the user is not logged in.',
        );
      }
      const action = `${this.issuer}/v1/authorize`;
      return html(200, loginPage(action, params, clientId, [...this.users.values()]));
    }
    const user = this.users.get(login);
    if (!user) {
      const why = `There is no user ${login} in the fake org.`;
      return html(400, errorPage(why), why);
    }
    if (user.denied) {
      return fail('access_denied', 'User is not assigned to the client application.');
    }
    const now = this.deps.now();
    for (const [code, grant] of this.codes) if (grant.expiresAt <= now) this.codes.delete(code);
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, {
      clientId,
      redirectUri,
      challenge,
      scopes,
      nonce: params.get('nonce') ?? undefined,
      user,
      authTime: Math.floor(now / 1000),
      expiresAt: now + CODE_LIFETIME_MS,
    });
    const location = new URL(redirectUri);
    location.searchParams.set('code', code);
    location.searchParams.set('state', state);
    return redirect(location.href);
  }

  private token(req: IncomingMessage, form: URLSearchParams): Answer {
    const client = authenticateClient(
      req,
      form,
      this.apps,
      `${this.issuer}/v1/token`,
      this.deps.verifyClientAssertion,
    );
    const grantType = form.get('grant_type') ?? '';
    if (grantType !== 'authorization_code' && grantType !== 'client_credentials') {
      throw oauthError(
        400,
        'unsupported_grant_type',
        `The authorization grant type is not supported by the authorization server. Configured grant types: [authorization_code, client_credentials].`,
      );
    }
    if (!client.grantTypes.includes(grantType)) {
      throw oauthError(
        400,
        'unauthorized_client',
        `The client is not authorized to use the provided grant type. Configured grant types: [${client.grantTypes.join(', ')}].`,
      );
    }
    return grantType === 'authorization_code'
      ? this.codeGrant(client, form)
      : this.clientCredentialsGrant(client, form);
  }

  private codeGrant(client: AuthenticatedClient, form: URLSearchParams): Answer {
    const code = form.get('code') ?? '';
    const grant = this.codes.get(code);
    // Single use: the first attempt consumes the code, whatever its outcome.
    this.codes.delete(code);
    if (!grant || grant.expiresAt <= this.deps.now() || grant.clientId !== client.clientId) {
      throw oauthError(400, 'invalid_grant', 'The authorization code is invalid or has expired.');
    }
    if (form.get('redirect_uri') !== grant.redirectUri) {
      throw oauthError(
        400,
        'invalid_grant',
        "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
      );
    }
    const verifier = form.get('code_verifier');
    if (!verifier) {
      throw oauthError(
        400,
        'invalid_request',
        'PKCE code verifier is required when the parameter code_challenge is included in the authorization request.',
      );
    }
    if (!constantTimeEqual(s256(verifier), grant.challenge)) {
      throw oauthError(400, 'invalid_grant', 'PKCE verification failed.');
    }
    return json(userTokens(this.tokenContext(client.clientId), grant), NO_STORE);
  }

  private clientCredentialsGrant(client: AuthenticatedClient, form: URLSearchParams): Answer {
    const scopes = scopeList(form.get('scope'));
    return json(clientCredentialsTokens(this.tokenContext(client.clientId), scopes), NO_STORE);
  }

  private tokenContext(clientId: string): TokenContext {
    return { keys: this.keys, issuer: this.issuer, nowMs: this.deps.now(), clientId };
  }

  /** RFC 7009: 200 whatever the token, once the client is authenticated. */
  private revoke(req: IncomingMessage, form: URLSearchParams): Answer {
    const client = authenticateClient(
      req,
      form,
      this.apps,
      `${this.issuer}/v1/token`,
      this.deps.verifyClientAssertion,
    );
    const token = form.get('token');
    if (!token) throw oauthError(400, 'invalid_request', "The 'token' parameter is required.");
    const verified = this.keys.verify(token);
    const jti = verified?.claims.jti;
    if (verified && verified.claims.cid === client.clientId && typeof jti === 'string') {
      this.revoked.add(jti);
    }
    return { status: 200, headers: {}, body: '' };
  }

  private userinfo(req: IncomingMessage): Answer {
    const refuse = (status: number, error: string, description: string) =>
      new HttpRefusal(
        status,
        { error, error_description: description },
        {
          'WWW-Authenticate': `Bearer error="${error}", error_description="${description}"`,
        },
      );
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const verified = match ? this.keys.verify(match[1]!) : undefined;
    const claims = verified?.claims;
    const user = typeof claims?.sub === 'string' ? this.users.get(claims.sub) : undefined;
    if (
      !claims ||
      claims.iss !== this.issuer ||
      typeof claims.exp !== 'number' ||
      claims.exp * 1000 <= this.deps.now() ||
      this.revoked.has(String(claims.jti)) ||
      !user ||
      claims.uid !== user.uid
    ) {
      throw refuse(401, 'invalid_token', 'The access token is invalid.');
    }
    const scopes = Array.isArray(claims.scp) ? (claims.scp as string[]) : [];
    if (!scopes.includes('openid')) {
      throw refuse(
        403,
        'insufficient_scope',
        'The access token must provide access to at least one of these scopes - profile, email, address or phone',
      );
    }
    return json({
      sub: user.uid,
      ...profileClaims(user, scopes),
      ...(scopes.includes('groups') ? { groups: [...user.groups] } : {}),
    });
  }

  /** RP-initiated logout: an ID token this server signed (expired or not) names the client. */
  private logout(query: URLSearchParams): Answer {
    const hint = query.get('id_token_hint');
    if (!hint) {
      const why = "The 'id_token_hint' parameter is required.";
      return html(400, errorPage(why), why);
    }
    const claims = this.keys.verify(hint, true)?.claims;
    if (
      !claims ||
      claims.iss !== this.issuer ||
      typeof claims.aud !== 'string' ||
      typeof claims.sub !== 'string'
    ) {
      const why = "The 'id_token_hint' is not an ID token issued by this authorization server.";
      return html(400, errorPage(why), why);
    }
    const target = query.get('post_logout_redirect_uri');
    const app = this.apps.get(claims.aud);
    if (target !== null && !app?.postLogoutRedirectUris.includes(target)) {
      const why = `The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings (client ${claims.aud}).`;
      return html(400, errorPage(why), why);
    }
    this.logouts.push({ clientId: claims.aud, sub: claims.sub, at: this.deps.now() });
    if (target === null) return html(200, signedOutPage());
    const location = new URL(target);
    const state = query.get('state');
    if (state) location.searchParams.set('state', state);
    return redirect(location.href);
  }
}
