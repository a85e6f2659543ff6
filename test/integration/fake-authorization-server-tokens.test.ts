/**
 * Tokens of the fake org's custom authorization server over real HTTP (lib/okta-simulator/
 * authorization-server.ts): client credentials with private_key_jwt and with a secret, key
 * rotation (Okta's admin API and programmatic), logout with an ID token hint, revocation and
 * userinfo. Tokens are checked with jose against the published JWKS.
 */
import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { type FakeOrg, startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import {
  APP,
  basic,
  claimsOf,
  clientAssertion,
  codeFor,
  exchange,
  jwks,
  redirected,
  tokenRequest,
} from '../helpers/fake-authorization-server';

const API_TOKEN = '00fakeAuthzToken';
const SERVICE_APP = '0oafakeservice';
const service = generateKeyPairSync('rsa', { modulusLength: 2048 });

let org: FakeOrg;
let issuer: string;
/** Added to the real clock: tokens are minted in the past without waiting. */
let skewMs = 0;

beforeAll(async () => {
  org = await startFakeOktaOrg({
    apiToken: API_TOKEN,
    now: () => Date.now() + skewMs,
    clients: [{ clientId: SERVICE_APP, publicKey: service.publicKey }],
  });
  issuer = org.authorizationServer.issuer;
});

afterAll(async () => {
  await org?.stop();
});

beforeEach(() => {
  skewMs = 0;
});

describe('client credentials', () => {
  it('a service app with private_key_jwt gets events:read, sub = its client id', async () => {
    const { status, body } = await tokenRequest(issuer, {
      grant_type: 'client_credentials',
      scope: 'events:read',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion(SERVICE_APP, service.privateKey, `${issuer}/v1/token`),
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'events:read' });
    expect(body).not.toHaveProperty('id_token');
    const { payload } = await jwtVerify(body.access_token as string, jwks(issuer), {
      issuer,
      audience: 'api://default',
      algorithms: ['RS256'],
    });
    expect(payload).toMatchObject({
      ver: 1,
      sub: SERVICE_APP,
      cid: SERVICE_APP,
      scp: ['events:read'],
    });
    expect(payload).not.toHaveProperty('uid');
  });

  it('an assertion made for the org authorization server is refused here', async () => {
    const { status, body } = await tokenRequest(issuer, {
      grant_type: 'client_credentials',
      scope: 'events:read',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion(
        SERVICE_APP,
        service.privateKey,
        `${org.url}/oauth2/v1/token`,
      ),
    });
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('an app with a client secret; openid is refused, as Okta does', async () => {
    org.authorizationServer.addApp({
      clientId: '0oafakescript',
      clientSecret: 'script-secret',
      redirectUris: [],
      postLogoutRedirectUris: [],
      grantTypes: ['client_credentials'],
    });
    const auth = basic('0oafakescript', 'script-secret');
    const ok = await tokenRequest(
      issuer,
      { grant_type: 'client_credentials', scope: 'events:read' },
      auth,
    );
    expect(ok.status).toBe(200);
    expect(claimsOf(ok.body.access_token as string)).toMatchObject({ sub: '0oafakescript' });

    expect(
      await tokenRequest(
        issuer,
        { grant_type: 'client_credentials', scope: 'openid events:read' },
        auth,
      ),
    ).toEqual({
      status: 400,
      body: {
        error: 'invalid_scope',
        error_description: 'Client Credentials requests cannot contain OpenID scopes.',
      },
    });
    const browser = await tokenRequest(
      issuer,
      { grant_type: 'client_credentials', scope: 'events:read' },
      basic(),
    );
    expect(browser.body.error).toBe('unauthorized_client');
  });
});

describe('key rotation', () => {
  it('new tokens use the new kid; the JWKS keeps the previous key until the next rotation', async () => {
    const first = await codeFor(org);
    const before = (await exchange(issuer, first.code, first.verifier)).body.access_token as string;
    const oldKid = decodeProtectedHeader(before).kid;

    const rotated = await fetch(
      `${org.url}/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate`,
      {
        method: 'POST',
        headers: { Authorization: `SSWS ${API_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ use: 'sig' }),
      },
    );
    expect(rotated.status).toBe(200);
    const newKey = (await rotated.json()) as Record<string, unknown>;
    expect(newKey).toMatchObject({ status: 'ACTIVE', alg: 'RS256', use: 'sig' });
    expect(newKey.kid).not.toBe(oldKid);

    const second = await codeFor(org);
    const after = (await exchange(issuer, second.code, second.verifier)).body
      .access_token as string;
    expect(decodeProtectedHeader(after).kid).toBe(newKey.kid);
    const options = { issuer, audience: 'api://default', algorithms: ['RS256'] };
    await expect(jwtVerify(before, jwks(issuer), options)).resolves.toBeDefined();
    await expect(jwtVerify(after, jwks(issuer), options)).resolves.toBeDefined();

    const third = org.authorizationServer.rotateKeys();
    const { keys } = (await (await fetch(`${issuer}/v1/keys`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(keys.map((k) => k.kid).sort()).toEqual([newKey.kid, third].sort());
    await expect(jwtVerify(before, jwks(issuer), options)).rejects.toThrow(/no applicable key/i);
  });

  it('rotation needs the admin API credentials and {"use":"sig"}', async () => {
    const path = `${org.url}/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate`;
    const body = JSON.stringify({ use: 'sig' });
    expect((await fetch(path, { method: 'POST', body })).status).toBe(401);
    const noUse = await fetch(path, {
      method: 'POST',
      headers: { Authorization: `SSWS ${API_TOKEN}` },
      body: '{}',
    });
    expect(noUse.status).toBe(400);
    const other = await fetch(path.replace('/default/', '/aus0nope/'), {
      method: 'POST',
      headers: { Authorization: `SSWS ${API_TOKEN}` },
      body,
    });
    expect(other.status).toBe(404);
  });
});

describe('logout, revoke, userinfo', () => {
  async function idToken(login = 'carol@example.com') {
    const { code, verifier } = await codeFor(org, login);
    return (await exchange(issuer, code, verifier)).body as Record<string, string>;
  }

  function logoutUrl(params: Record<string, string>) {
    const url = new URL(`${issuer}/v1/logout`);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url;
  }

  it('a registered post_logout_redirect_uri: back there with state, and the logout is recorded', async () => {
    const { id_token } = await idToken();
    const count = org.authorizationServer.logouts.length;
    const back = await redirected(
      logoutUrl({
        id_token_hint: id_token!,
        post_logout_redirect_uri: APP.postLogoutRedirectUris[0]!,
        state: 'bye',
      }),
    );
    expect(back.href).toBe(`${APP.postLogoutRedirectUris[0]}?state=bye`);
    expect(org.authorizationServer.logouts.slice(count)).toEqual([
      { clientId: APP.clientId, sub: claimsOf(id_token!).sub, at: expect.any(Number) },
    ]);
  });

  it('an ID token that expired is still a good hint', async () => {
    skewMs = -2 * 3600_000;
    const { id_token } = await idToken();
    skewMs = 0;
    expect(claimsOf(id_token!).exp as number).toBeLessThan(Date.now() / 1000);
    await redirected(
      logoutUrl({
        id_token_hint: id_token!,
        post_logout_redirect_uri: APP.postLogoutRedirectUris[1]!,
      }),
    );
  });

  it.each([
    [
      'a post_logout_redirect_uri not registered',
      { post_logout_redirect_uri: 'https://evil.example/' },
    ],
    ['no id_token_hint', { id_token_hint: '' }],
    ['a hint this server did not sign', { id_token_hint: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }],
  ])('%s: a 400 page, no redirect, nothing recorded', async (_, overrides) => {
    const { id_token } = await idToken();
    const count = org.authorizationServer.logouts.length;
    const params = {
      id_token_hint: id_token!,
      post_logout_redirect_uri: APP.postLogoutRedirectUris[0]!,
      ...overrides,
    };
    if (params.id_token_hint === '') delete (params as Partial<typeof params>).id_token_hint;
    const response = await fetch(logoutUrl(params), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(org.authorizationServer.logouts.length).toBe(count);
  });

  it('userinfo answers for a live token; revoke ends it; revoke answers 200 for unknown tokens', async () => {
    const { access_token } = await idToken('carol@example.com');
    const userinfo = () =>
      fetch(`${issuer}/v1/userinfo`, { headers: { Authorization: `Bearer ${access_token}` } });
    const live = await userinfo();
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({
      sub: claimsOf(access_token!).uid,
      preferred_username: 'carol@example.com',
      groups: ['Everyone', 'okta-events-readers'],
    });

    const revoke = (token: string, authorization = basic()) =>
      fetch(`${issuer}/v1/revoke`, {
        method: 'POST',
        headers: {
          Authorization: authorization,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      });
    expect((await revoke(access_token!, basic(APP.clientId, 'wrong'))).status).toBe(401);
    expect((await userinfo()).status).toBe(200);
    expect((await revoke(access_token!)).status).toBe(200);
    const after = await userinfo();
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect((await revoke('not-a-token-we-made')).status).toBe(200);
  });
});
