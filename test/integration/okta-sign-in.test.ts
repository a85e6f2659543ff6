/**
 * Sign in with Okta against an independent OpenID provider (oauth2-mock-server, not written with
 * this code), the ui and read API handlers in-process on DynamoDB Local, the redirects followed by
 * hand with fetch: the whole code flow, the session it makes, its refusals as HTML pages, the flow
 * cookie played twice, and sign-out through the issuer's end_session endpoint.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { exportJWK, generateKeyPair } from 'jose';
import { OAuth2Server } from 'oauth2-mock-server';
import { buildUiAssets } from '../../deploy/ui-assets';
import { loadConfig } from '../../lib/config';
import { freePort } from '../../lib/local/local-stack';
import { createReadApiHandler } from '../../lib/read-api/read-api';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { EventQueries } from '../../lib/store/event-queries';
import { SessionRevocations } from '../../lib/store/session-revocations';
import type { UiAssets } from '../../lib/ui/ui-assets';
import { createUiHandler } from '../../lib/ui/ui-endpoint';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';

// Alphanumeric as Okta's are: oauth2-mock-server does not form-decode a client_secret_basic id.
const CLIENT_ID = '0oamockeventbrowser1';
const CLIENT_SECRET = 'client-secret-of-the-event-browser-test';
const HOST = 'events.example.com';
const BROWSER = { host: HOST, 'x-forwarded-proto': 'https' };

let db: TestDynamoDb;
let tableName: string;
let assets: UiAssets;
let provider: OAuth2Server;
let readClient: ReturnType<typeof createDynamoDbClient>;
let issuer: string;
/** The claims the provider adds to the next ID token. */
let claims: Record<string, unknown> = {};
const logLines: string[] = [];

beforeAll(async () => {
  db = await startTestDynamoDb();
  tableName = await db.newTable();
  assets = await buildUiAssets();
  readClient = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: db.local.endpoint },
    { requestTimeoutMs: 30_000 },
  );
  provider = new OAuth2Server();
  // keys.generate() fails under jest: Node's JWK export is a plain object of another realm.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  await provider.issuer.keys.add({ ...(await exportJWK(privateKey)), alg: 'RS256', kid: 'k1' });
  await provider.start(await freePort(), '127.0.0.1');
  issuer = provider.issuer.url!;
  provider.service.on('beforeTokenSigning', (token) => {
    if (token.payload.nonce !== undefined) Object.assign(token.payload, claims);
  });
  const record = (line?: unknown) => void logLines.push(String(line));
  jest.spyOn(console, 'log').mockImplementation(record);
  jest.spyOn(console, 'error').mockImplementation(record);
}, 120_000);

afterAll(async () => {
  readClient?.destroy();
  await provider?.stop();
  await db?.stop();
});

function handlers(env: Record<string, string> = {}) {
  const config = loadConfig({
    STAGE: 'staging',
    EVENTS_TABLE: tableName,
    OKTA_ISSUER: issuer,
    OKTA_UI_CLIENT_ID: CLIENT_ID,
    OKTA_UI_CLIENT_SECRET: CLIENT_SECRET,
    ...env,
  });
  const revocations = new SessionRevocations(db.client, tableName);
  const ui = createUiHandler({ config, assets, revocations });
  const queries = new EventQueries(readClient, tableName);
  const readApi = createReadApiHandler({ config, queries });
  return { ui, readApi };
}

function get(
  path: string,
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  return {
    ...v2Event({ method: 'GET', path, headers: { ...BROWSER, ...headers } }),
    queryStringParameters: query,
  };
}

/** `name=value` of each Set-Cookie. */
function cookiePairs(cookies: string[] | undefined): string[] {
  return (cookies ?? []).map((c) => c.split(';')[0]!);
}

/** /ui/login, then the provider's authorize endpoint: the callback's query and the flow cookie. */
async function authorize(ui: ReturnType<typeof handlers>['ui']) {
  const login = await ui(get('/ui/login'));
  expect(login.statusCode).toBe(302);
  const authorizeUrl = new URL(login.headers!.location as string);
  expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${issuer}/authorize`);
  expect(Object.fromEntries(authorizeUrl.searchParams)).toMatchObject({
    client_id: CLIENT_ID,
    redirect_uri: `https://${HOST}/ui/callback`,
    response_type: 'code',
    scope: 'openid profile email groups',
    code_challenge_method: 'S256',
  });
  expect(login.cookies![0]).toMatch(
    /^__Secure-okta-events-sign-in=[^;]+; Path=\/ui\/callback; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/,
  );
  const answer = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  const back = new URL(answer.headers.get('location')!);
  expect(back.pathname).toBe('/ui/callback');
  return {
    query: Object.fromEntries(back.searchParams),
    flowCookie: cookiePairs(login.cookies)[0]!,
  };
}

function expectPage(response: { statusCode: number; body?: string }, status: number, text: RegExp) {
  expect(response.statusCode).toBe(status);
  expect(response.body).toMatch(/^<!doctype html>/);
  expect(response.body).toMatch(text);
  expect(response.body).not.toMatch(/ at .*\.(ts|js):\d+|Error:/);
}

it('signs a user in through the code flow, and the read API logs their reads with user=', async () => {
  const { ui, readApi } = handlers();
  claims = { preferred_username: 'alice@example.com', groups: ['Everyone', 'okta-events-readers'] };
  const { query, flowCookie } = await authorize(ui);
  const callback = await ui(get('/ui/callback', query, { cookie: flowCookie }));
  expect(callback.statusCode).toBe(302);
  expect(callback.headers!.location).toBe('/ui');
  const [session, cleared] = callback.cookies!;
  expect(session).toMatch(/^__Host-okta-events-session=u\./);
  expect(session).toMatch(/; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
  expect(cleared).toMatch(/^__Secure-okta-events-sign-in=; .*Max-Age=0/);
  const cookie = cookiePairs([session!])[0]!;

  const state = JSON.parse((await ui(get('/ui/session', {}, { cookie }))).body!);
  expect(state).toMatchObject({
    signedIn: true,
    user: 'alice@example.com',
    signIns: { okta: true, token: false },
  });
  logLines.length = 0;
  const read = await readApi(get('/event-types', {}, { cookie }));
  expect(read.statusCode).toBe(200);
  expect(logLines.join('\n')).toMatch(/"user":"alice@example.com"/);

  // The same flow cookie and code a second time: refused, whatever the provider would say.
  const replay = await ui(get('/ui/callback', query, { cookie: flowCookie }));
  expectPage(replay, 400, /already been used/);
  expect(replay.cookies ?? []).toEqual([]);
});

it("refuses a callback whose state is not the flow cookie's, with a page and a way back", async () => {
  const { ui } = handlers();
  const { query, flowCookie } = await authorize(ui);
  const page = await ui(
    get('/ui/callback', { ...query, state: 'tampered' }, { cookie: flowCookie }),
  );
  expectPage(page, 400, /does not belong to the sign-in this browser started/);
  expect(page.body).toContain('href="login"');
  expect(page.headers!['content-security-policy']).toContain("script-src 'self'");
  expect(logLines.at(-1)).toMatch(/the state in the callback is not the one in the sign-in cookie/);
});

it("shows Okta's access_denied as a page, escaped", async () => {
  const { ui } = handlers();
  const { flowCookie } = await authorize(ui);
  const page = await ui(
    get(
      '/ui/callback',
      { error: 'access_denied', error_description: '<script>alert(1)</script>', state: 'x' },
      { cookie: flowCookie },
    ),
  );
  expectPage(page, 403, /Okta refused the sign-in: &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  expect(page.body).not.toContain('<script>');
});

it('refuses a user outside OKTA_UI_GROUPS: a page with their login, and no session', async () => {
  const { ui } = handlers({ OKTA_UI_GROUPS: 'okta-events-readers' });
  claims = { preferred_username: 'bob@example.com', groups: ['Everyone'] };
  const { query, flowCookie } = await authorize(ui);
  const page = await ui(get('/ui/callback', query, { cookie: flowCookie }));
  expectPage(page, 403, /You signed in to Okta as bob@example.com.*okta-events-readers/);
  expect(page.cookies ?? []).toEqual([]);
});

it("signs out: the session is revoked and the page is sent to the issuer's logout", async () => {
  const { ui, readApi } = handlers();
  claims = { preferred_username: 'carol@example.com', groups: [] };
  const { query, flowCookie } = await authorize(ui);
  const callback = await ui(get('/ui/callback', query, { cookie: flowCookie }));
  const cookie = cookiePairs(callback.cookies)[0]!;
  const out = await ui({
    ...v2Event({
      method: 'DELETE',
      path: '/ui/session',
      headers: { ...BROWSER, cookie, origin: `https://${HOST}` },
    }),
  });
  expect(out.statusCode).toBe(200);
  const logout = new URL(JSON.parse(out.body!).logoutUrl);
  expect(logout.origin + logout.pathname).toBe(`${issuer}/endsession`);
  expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(`https://${HOST}/ui`);
  expect(logout.searchParams.get('id_token_hint')).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  expect((await readApi(get('/event-types', {}, { cookie }))).statusCode).toBe(401);
});

it('refuses POST /ui/session with 403 when UI_TOKEN_SIGN_IN=false or no token is set', async () => {
  const { ui } = handlers({
    EVENTS_API_TOKEN: 'events-token-of-32-characters-at-least',
    UI_TOKEN_SIGN_IN: 'false',
  });
  const response = await ui(
    v2Event({
      method: 'POST',
      path: '/ui/session',
      headers: { ...BROWSER, 'content-type': 'application/json', origin: `https://${HOST}` },
      body: JSON.stringify({ token: 'events-token-of-32-characters-at-least' }),
    }),
  );
  expect(response.statusCode).toBe(403);
  expect(JSON.parse(response.body!).error).toBe('token_sign_in_off');
  const state = JSON.parse((await ui(get('/ui/session'))).body!);
  expect(state.signIns).toEqual({ okta: true, token: false });
  // With Okta sign-in and no EVENTS_API_TOKEN, there is no token to sign in with either.
  const { ui: oktaOnly } = handlers();
  const refused = await oktaOnly(
    v2Event({
      method: 'POST',
      path: '/ui/session',
      headers: { ...BROWSER, 'content-type': 'application/json', origin: `https://${HOST}` },
      body: JSON.stringify({ token: 'anything' }),
    }),
  );
  expect(refused.statusCode).toBe(403);
});
