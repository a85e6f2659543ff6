/**
 * The fake org's custom authorization server over real HTTP (lib/okta-simulator/
 * authorization-server.ts), signing people in: Okta's discovery, the code flow with PKCE through
 * the login form and with auto-login, each refusal Okta makes, tokens checked with jose against
 * the published JWKS, the request log, `npm run okta -- serve`'s sign-in flags; and
 * openid-client v6, a certified relying party, signing in against it. Client credentials, key
 * rotation, logout and revocation: fake-authorization-server-tokens.test.ts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { freePort } from '../../lib/local/local-stack';
import { runOktaCli } from '../../lib/okta-simulator/cli';
import {
  DEFAULT_FAKE_USERS,
  type FakeOrg,
  startFakeOktaOrg,
} from '../../lib/okta-simulator/fake-org';
import { PROJECT_ROOT } from '../../lib/store/table-definition';
import {
  APP,
  REDIRECT,
  SECRET,
  authorizeUrl,
  basic,
  claimsOf,
  codeFor,
  exchange,
  jwks,
  pkce,
  redirected,
  tokenRequest,
} from '../helpers/fake-authorization-server';
import { waitFor } from '../helpers/npm-start';

const MALLORY = {
  login: 'mallory@example.com',
  name: '<b>Mallory & "Co"</b>',
  groups: ['Everyone'],
  denied: true,
};

let org: FakeOrg;
let issuer: string;
/** Added to the real clock: codes expire without waiting. */
let skewMs = 0;
const lines: string[] = [];

beforeAll(async () => {
  org = await startFakeOktaOrg({
    now: () => Date.now() + skewMs,
    authorizationServer: { users: [...DEFAULT_FAKE_USERS, MALLORY] },
    onRequest: (line) => lines.push(line),
  });
  issuer = org.authorizationServer.issuer;
});

afterAll(async () => {
  await org?.stop();
});

beforeEach(() => {
  skewMs = 0;
  org.authorizationServer.setAutoLogin(undefined);
});

describe('discovery and keys', () => {
  it.each(['openid-configuration', 'oauth-authorization-server'])(
    '/.well-known/%s describes the server as Okta does',
    async (name) => {
      const response = await fetch(`${issuer}/.well-known/${name}`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as Record<string, unknown>;
      expect(document).toMatchObject({
        issuer: `${org.url}/oauth2/default`,
        authorization_endpoint: `${issuer}/v1/authorize`,
        token_endpoint: `${issuer}/v1/token`,
        jwks_uri: `${issuer}/v1/keys`,
        end_session_endpoint: `${issuer}/v1/logout`,
        revocation_endpoint: `${issuer}/v1/revoke`,
        userinfo_endpoint: `${issuer}/v1/userinfo`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
        ],
      });
      expect(document.grant_types_supported).toEqual(
        expect.arrayContaining(['authorization_code', 'client_credentials']),
      );
      expect(document.scopes_supported).toEqual(
        expect.arrayContaining(['openid', 'profile', 'email', 'groups', 'events:read']),
      );
      expect(document.claims_supported).toEqual(expect.arrayContaining(['sub', 'groups']));
    },
  );

  it('publishes RS256 signing keys with a kid, public parts only', async () => {
    const { keys } = (await (await fetch(`${issuer}/v1/keys`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    }
  });
});

describe('authorization code flow with PKCE', () => {
  it('auto-login: redirects at once; the tokens verify against the JWKS and carry Okta claims', async () => {
    const { verifier, challenge } = pkce();
    org.authorizationServer.setAutoLogin('alice@example.com');
    const back = await redirected(authorizeUrl(issuer, {}, challenge));
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('state-123');

    const { status, body } = await exchange(issuer, back.searchParams.get('code')!, verifier);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'openid profile email groups',
    });

    const access = await jwtVerify(body.access_token as string, jwks(issuer), {
      issuer,
      audience: 'api://default',
      algorithms: ['RS256'],
    });
    expect(access.protectedHeader.kid).toEqual(expect.any(String));
    const alice = org.authorizationServer.listUsers().find((u) => u.login === 'alice@example.com')!;
    expect(alice.uid).toMatch(/^00u[0-9a-f]{17}$/);
    expect(access.payload).toMatchObject({
      ver: 1,
      cid: APP.clientId,
      uid: alice.uid,
      sub: 'alice@example.com',
      scp: ['openid', 'profile', 'email', 'groups'],
      groups: ['Everyone', 'okta-events-readers'],
    });
    expect(access.payload.jti).toMatch(/^AT\./);
    expect(access.payload.exp! - access.payload.iat!).toBe(3600);
    expect(access.payload.auth_time).toEqual(expect.any(Number));

    const id = await jwtVerify(body.id_token as string, jwks(issuer), {
      issuer,
      audience: APP.clientId,
      algorithms: ['RS256'],
    });
    const atHash = createHash('sha256')
      .update(body.access_token as string)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
    expect(id.payload).toMatchObject({
      ver: 1,
      sub: alice.uid,
      name: 'Alice Example',
      email: 'alice@example.com',
      preferred_username: 'alice@example.com',
      nonce: 'nonce-456',
      amr: ['pwd'],
      at_hash: atHash,
      groups: ['Everyone', 'okta-events-readers'],
    });
    expect(id.payload.jti).toMatch(/^ID\./);
    expect(id.payload.idp).toMatch(/^00o/);
    expect(id.payload.auth_time).toBe(access.payload.auth_time);
  });

  it('without the groups scope, no groups claim', async () => {
    const { code, verifier } = await codeFor(org, 'alice@example.com', 'openid profile');
    const { body } = await exchange(issuer, code, verifier);
    expect(claimsOf(body.access_token as string)).not.toHaveProperty('groups');
    expect(claimsOf(body.id_token as string)).not.toHaveProperty('groups');
    expect(claimsOf(body.id_token as string)).not.toHaveProperty('email');
  });

  it('the login form lists the users (escaped) and its POST signs the chosen one in', async () => {
    const { verifier, challenge } = pkce();
    const response = await fetch(authorizeUrl(issuer, {}, challenge), { redirect: 'manual' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await response.text();
    for (const user of DEFAULT_FAKE_USERS) expect(page).toContain(`value="${user.login}"`);
    expect(page).toContain('&lt;b&gt;Mallory &amp; &quot;Co&quot;&lt;/b&gt;');
    expect(page).not.toContain('<b>Mallory');

    // The browser's POST: the form's hidden fields, and the button pressed.
    const unescape = (s: string) =>
      s
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    const form = new URLSearchParams();
    for (const [, name, value] of page.matchAll(
      /<input type="hidden" name="([^"]*)" value="([^"]*)">/g,
    )) {
      form.append(unescape(name!), unescape(value!));
    }
    expect(form.get('code_challenge')).toBe(challenge);
    form.set('login', 'bob@example.com');
    const action = /<form method="post" action="([^"]*)"/.exec(page)![1]!;
    const back = await redirected(action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(back.searchParams.get('state')).toBe('state-123');

    // client_secret_post this time.
    const { status, body } = await tokenRequest(issuer, {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: APP.clientId,
      client_secret: SECRET,
    });
    expect(status).toBe(200);
    expect(claimsOf(body.access_token as string)).toMatchObject({
      sub: 'bob@example.com',
      groups: ['Everyone'],
    });
  });

  it('a user not assigned to the app: back with error=access_denied', async () => {
    org.authorizationServer.setAutoLogin(MALLORY.login);
    const back = await redirected(authorizeUrl(issuer));
    expect(Object.fromEntries(back.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'User is not assigned to the client application.',
      state: 'state-123',
    });
  });

  it('setAutoLogin refuses a login the org does not have', () => {
    expect(() => org.authorizationServer.setAutoLogin('zed@example.com')).toThrow(
      /no user zed@example.com/,
    );
  });
});

describe('authorize refusals', () => {
  beforeEach(() => org.authorizationServer.setAutoLogin('alice@example.com'));

  it.each([
    ['no state', { state: undefined }, 'invalid_request', /state/],
    [
      'plain PKCE',
      { code_challenge_method: 'plain' },
      'invalid_request',
      /'plain' is not supported/,
    ],
    [
      'no PKCE',
      { code_challenge: undefined, code_challenge_method: undefined },
      'invalid_request',
      /PKCE/,
    ],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type', /code/],
    ['an unknown scope', { scope: 'openid admin' }, 'invalid_scope', /admin/],
  ])('%s: back to the app with error, no code', async (_, overrides, error, description) => {
    const back = await redirected(authorizeUrl(issuer, overrides));
    expect(back.searchParams.get('error')).toBe(error);
    expect(back.searchParams.get('error_description')).toMatch(description);
    expect(back.searchParams.has('code')).toBe(false);
  });

  it.each([
    ['a redirect_uri not registered', { redirect_uri: 'https://evil.example/cb' }, /redirect_uri/],
    ['an unknown client_id', { client_id: '0oanope' }, /client_id/],
  ])('%s: a 400 page and no redirect', async (_, overrides, message) => {
    const response = await fetch(authorizeUrl(issuer, overrides), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(message);
  });

  it('prompt=none without auto-login: login_required', async () => {
    org.authorizationServer.setAutoLogin(undefined);
    const back = await redirected(authorizeUrl(issuer, { prompt: 'none' }));
    expect(back.searchParams.get('error')).toBe('login_required');
  });
});

describe('token refusals', () => {
  it('a wrong code_verifier: invalid_grant, and the code is spent', async () => {
    const { code, verifier } = await codeFor(org);
    expect(await exchange(issuer, code, pkce().verifier)).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'PKCE verification failed.' },
    });
    expect((await exchange(issuer, code, verifier)).body.error).toBe('invalid_grant');
  });

  it('a reused code: invalid_grant', async () => {
    const { code, verifier } = await codeFor(org);
    expect((await exchange(issuer, code, verifier)).status).toBe(200);
    expect(await exchange(issuer, code, verifier)).toEqual({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description: 'The authorization code is invalid or has expired.',
      },
    });
  });

  it('a code older than 300 s: invalid_grant', async () => {
    const { code, verifier } = await codeFor(org);
    skewMs = 300_001;
    const { status, body } = await exchange(issuer, code, verifier);
    expect(status).toBe(400);
    expect(body.error_description).toBe('The authorization code is invalid or has expired.');
  });

  it('a code redeemed with another redirect_uri: invalid_grant', async () => {
    const { code, verifier } = await codeFor(org);
    const { status, body } = await exchange(issuer, code, verifier, {
      redirect_uri: APP.redirectUris[1]!,
    });
    expect(status).toBe(400);
    expect(body.error_description).toMatch(/redirect_uri/);
  });

  it('a wrong client secret or none: 401 invalid_client', async () => {
    const { code, verifier } = await codeFor(org);
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    };
    expect((await tokenRequest(issuer, form, basic(APP.clientId, 'wrong'))).status).toBe(401);
    const none = await tokenRequest(issuer, { ...form, client_id: APP.clientId });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
  });
});

describe('what the request log shows', () => {
  it('paths and statuses only: never a code, state, verifier, token or secret', async () => {
    lines.length = 0;
    const { code, verifier } = await codeFor(org);
    const { body } = await exchange(issuer, code, verifier);
    const logout = new URL(`${issuer}/v1/logout`);
    logout.searchParams.set('id_token_hint', body.id_token as string);
    logout.searchParams.set('state', 'state-789');
    await fetch(logout, { redirect: 'manual' });
    const log = lines.join('\n');
    expect(log).toContain('/oauth2/default/v1/authorize 302');
    expect(log).toContain('/oauth2/default/v1/token 200');
    expect(log).toContain('/oauth2/default/v1/logout 200');
    for (const secret of [
      code,
      verifier,
      'state-123',
      'state-789',
      SECRET,
      body.id_token as string,
      body.access_token as string,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});

describe('what the request log shows, continued', () => {
  it('a refusal quoting the request stays on one line', async () => {
    lines.length = 0;
    const form = new URLSearchParams(authorizeUrl(issuer).searchParams);
    form.set('login', 'nobody@example.com\n12:00:00 GET /forged 200');
    const response = await fetch(`${issuer}/v1/authorize`, { method: 'POST', body: form });
    expect(response.status).toBe(400);
    await waitFor(() => lines.length > 0, 60_000, 'the line');
    expect(lines[0]).toMatch(/POST \/oauth2\/default\/v1\/authorize 400 There is no user nobody/);
    expect(lines[0]).not.toContain('\n');
  });
});

describe('openid-client v6 signs in against it', () => {
  it('discovery, authorization code grant with PKCE, ID token checks, userinfo and logout URL', async () => {
    const config = await oidc.discovery(
      new URL(issuer),
      APP.clientId,
      SECRET,
      oidc.ClientSecretBasic(SECRET),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email groups',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    org.authorizationServer.setAutoLogin('alice@example.com');
    const callback = await redirected(url);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      preferred_username: 'alice@example.com',
      groups: ['Everyone', 'okta-events-readers'],
    });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.email).toBe('alice@example.com');

    const end = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: APP.postLogoutRedirectUris[0]!,
    });
    expect((await redirected(end)).href).toBe(APP.postLogoutRedirectUris[0]);
  });
});

function usersFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'users-')), 'users.json');
  writeFileSync(file, text);
  return file;
}

describe('npm run okta -- serve with sign-in flags', () => {
  it('prints the issuer, the app and the users; --auto-login, --users and --redirect-uri take effect', async () => {
    const port = await freePort();
    const users = usersFile(
      '[{"login":"dana@example.com","name":"Dana","groups":["Everyone","ops"]}]',
    );
    const child = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'),
        'scripts/okta.ts',
        'serve',
        '--port',
        String(port),
        '--token',
        '00serve-test-token',
        '--users',
        users,
        '--auto-login',
        'dana@example.com',
        '--redirect-uri',
        'http://localhost:4567/ui/callback',
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await waitFor(
        () => output.includes('Ctrl-C stops it.') || child.exitCode !== null,
        60_000,
        'serve',
      );
      const served = `http://127.0.0.1:${port}/oauth2/default`;
      expect(output).toContain(`OKTA_ISSUER=${served}`);
      expect(output).toContain(`OKTA_UI_CLIENT_ID=${APP.clientId}`);
      expect(output).toContain(`OKTA_UI_CLIENT_SECRET=${SECRET}`);
      expect(output).toContain('dana@example.com (Dana; groups Everyone, ops)');
      expect(output).not.toContain('alice@example.com');

      const url = new URL(`${served}/v1/authorize`);
      for (const [name, value] of Object.entries({
        client_id: APP.clientId,
        redirect_uri: 'http://localhost:4567/ui/callback',
        response_type: 'code',
        scope: 'openid',
        state: 's',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      })) {
        url.searchParams.set(name, value);
      }
      const back = await redirected(url);
      expect(back.origin).toBe('http://localhost:4567');
      expect(back.searchParams.get('code')).toEqual(expect.any(String));
      // The request line is printed once the answer is sent.
      await waitFor(
        () => / GET \/oauth2\/default\/v1\/authorize 302/.test(output),
        60_000,
        'the line',
      );
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    expect(child.exitCode).toBe(0);
  });
});

describe('serve --users', () => {
  it.each([
    ['not JSON', '[{', /not JSON/],
    [
      'a login that is no email',
      '[{"login":"alice","groups":[]}]',
      /"login" must be an email-like login/,
    ],
    ['groups not an array', '[{"login":"a@x.io","groups":"admins"}]', /"groups" must be an array/],
  ])('%s: one clear line', async (_, text, message) => {
    const file = usersFile(text);
    const io = { out: jest.fn(), err: jest.fn() };
    const run = runOktaCli(['serve', '--port', '1', '--users', file], io);
    await expect(run).rejects.toThrow(message);
    await run.catch((error: Error) => expect(error.message).not.toContain('\n'));
  });
  it('--auto-login with a user the org does not have: one clear line', async () => {
    const run = runOktaCli(['serve', '--port', '1', '--auto-login', 'zed@example.com'], {
      out: jest.fn(),
      err: jest.fn(),
    });
    await expect(run).rejects.toThrow(
      'auto-login: no user zed@example.com (users: alice@example.com, bob@example.com, carol@example.com)',
    );
  });
});
