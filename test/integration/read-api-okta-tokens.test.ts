/**
 * The read API with Okta access tokens, through a real serverless offline (one stack for the
 * file). The issuer's address stays the same while what answers there changes, in order:
 * nothing (503), the project's fake Okta org (client credentials with private_key_jwt through
 * `npm run events -- list --url`, a key rotation), then oauth2-mock-server (an OAuth 2.0
 * provider written by others, so the verifier is not only tested against code written
 * alongside it: every bad token refused with the right status, WWW-Authenticate challenge and
 * log reason). Static tokens are off on this stack. The tests run in file order; the failure
 * limiter's test spends the address's allowance, so it is last.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describeCliError } from '../../lib/cli/cli-errors';
import { runEventsCli } from '../../lib/cli/events-cli';
import { FAILURE_BURST } from '../../lib/http/failure-limiter';
import { type FakeOrg, startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import { discoverIssuer, fetchOnFreshSocket } from '../../lib/okta/issuer-metadata';
import { loadConfig } from '../../lib/config';
import { IssuerUnavailableError } from '../../lib/errors';
import { AccessTokenVerifier } from '../../lib/http/access-token';
import { createReadApiHandler } from '../../lib/read-api/read-api';
import { EventQueries } from '../../lib/store/event-queries';
import { v2Event } from '../helpers/api-gateway';
import { type TestServer, startTestServer } from '../helpers/test-server';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Events, OAuth2Server } from 'oauth2-mock-server';
import { freePort } from '../../lib/local/local-stack';
import { type TestStack, startTestStack } from '../helpers/offline';
import { delivery, logEvent } from '../helpers/okta';

const AUDIENCE = 'api://default'; // the fake org's, as Okta's default server
const SCRIPT_CLIENT = '0oascript';
const OTHER_CLIENT = '0oaother';
const STATIC_TOKEN = 'static-token-1-of-32-characters-at-least';

let mock: OAuth2Server;
let org: FakeOrg | undefined;
let issuer: string;
let stack: TestStack;
/** The events stored before the tests, newest first: what `npm run events -- list` prints. */
const stored = [
  logEvent({ published: '2026-11-01T11:00:00.000Z' }),
  logEvent({ published: '2026-11-01T10:00:00.000Z' }),
];
const storedUuids = stored.map((event) => event.uuid);

type Claims = Record<string, unknown>;

/** A token the mock issuer signs with its published key: Okta's claims, then `change`. */
function mint(change: (claims: Claims, header: Claims) => void = () => undefined) {
  return mock.issuer.buildToken({
    scopesOrTransform: (header, payload) => {
      Object.assign(payload, {
        ver: 1,
        aud: AUDIENCE,
        cid: SCRIPT_CLIENT,
        sub: 'script@example.com',
        scp: ['events:read'],
      });
      change(payload as Claims, header as Claims);
    },
  });
}

function segment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function read(authorization: string | undefined, path = '/events?limit=5') {
  const response = await fetch(`${stack.offline.url}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  const body = (await response.json()) as { error?: string; message?: string; events?: unknown[] };
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body };
}

/** The request log line serverless offline printed for a request with this reason. */
function logLine(text: string): string | undefined {
  return stack.lines.find((line) => line.includes('GET /events') && line.includes(text));
}

beforeAll(async () => {
  const port = await freePort();
  // Laid out as an Okta custom authorization server (the stage settings want a path).
  issuer = `http://127.0.0.1:${port}/oauth2/default`;
  mock = new OAuth2Server(undefined, undefined, {
    endpoints: {
      wellKnownDocument: '/oauth2/default/.well-known/openid-configuration',
      jwks: '/oauth2/default/v1/keys',
      token: '/oauth2/default/v1/token',
    },
  });
  // It joins the issuer and those paths: say where they really are, as Okta's discovery does.
  mock.service.on(Events.BeforeWellKnownOpenIdConfiguration, (response) => {
    Object.assign(response.body, {
      jwks_uri: `${issuer}/v1/keys`,
      token_endpoint: `${issuer}/v1/token`,
    });
  });
  // keys.generate() would hand back an object of Node's realm, which the mock's plain-object
  // check refuses under jest's sandbox: a key exported and parsed here passes.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = JSON.parse(JSON.stringify(privateKey.export({ format: 'jwk' }))) as Claims;
  await mock.issuer.keys.add({ ...jwk, kid: 'mock-key-1', alg: 'RS256' });
  mock.issuer.url = issuer; // set before start, so tokens can be minted before it listens
  // Tokens from the token endpoint carry what Okta's custom authorization server puts in them.
  mock.service.on(Events.BeforeTokenSigning, (token, req) => {
    const client = Buffer.from(
      (req.headers.authorization ?? '').replace(/^Basic /, ''),
      'base64',
    ).toString('utf8');
    const clientId = client.split(':')[0] ?? '';
    const scopes = String(token.payload.scope ?? '').split(' ');
    Object.assign(token.payload, {
      ver: 1,
      aud: AUDIENCE,
      cid: clientId,
      sub: clientId,
      scp: scopes,
    });
    delete token.payload.scope;
  });
  stack = await startTestStack({
    OKTA_ISSUER: issuer,
    OKTA_API_AUDIENCE: AUDIENCE,
    OKTA_API_CLIENT_IDS: SCRIPT_CLIENT,
    OKTA_API_GROUPS: 'okta-events-readers',
    EVENTS_API_TOKEN: STATIC_TOKEN,
    READ_API_STATIC_TOKENS: 'false',
    // A rotation (or the switch from the mock to the fake org) is seen at once, without waiting.
    OKTA_JWKS_REFETCH_COOLDOWN_SECONDS: '0',
    LOG_FORMAT: 'pretty',
  });
  // The local stage's webhook endpoint is open (no secret configured): store the events.
  const posted = await fetch(stack.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(delivery(stored)),
  });
  expect(posted.status).toBe(204);
  await stack.streams.idle();
}, 180_000);

afterAll(async () => {
  if (stack) expect(await stack.stop()).toEqual([]);
  await org?.stop();
  if (mock?.listening) await mock.stop();
});

it('answers 503 while nothing answers at the issuer address: the token may be fine', async () => {
  const token = await mint();
  const down = await read(`Bearer ${token}`);
  expect(down).toMatchObject({ status: 503, body: { error: 'issuer_unavailable' } });
  expect(down.challenge).toBeNull();
  expect(logLine('issuer_unavailable')).toMatch(
    /503 issuer_unavailable: cannot reach http:\/\/127\.0\.0\.1:\d+\/oauth2\/default\/\.well-known\/openid-configuration: ECONNREFUSED/,
  );
});

describe('the fake Okta org at the issuer address', () => {
  const service = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = service.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  async function eventsList(extraEnv: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const env = {
      OKTA_ISSUER: issuer,
      OKTA_CLIENT_ID: SCRIPT_CLIENT,
      OKTA_PRIVATE_KEY: privateKey,
      ...extraEnv,
    };
    // As scripts/events.ts runs it: a failure is one line on stderr and exit code 1.
    const code = await runEventsCli(['list', '--url', stack.offline.url, '--json'], env, {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    }).catch((error: unknown) => {
      err.push(`events: ${describeCliError(error, env)}`);
      return 1;
    });
    return { code, out, err };
  }

  beforeAll(async () => {
    org = await startFakeOktaOrg({
      port: Number(new URL(issuer).port),
      clients: [{ clientId: SCRIPT_CLIENT, publicKey: service.publicKey }],
    });
    expect(org.authorizationServer.issuer).toBe(issuer);
  });

  afterAll(async () => {
    await org?.stop();
    org = undefined;
  });

  // After the 503 above: a failure to reach the issuer is not cached.
  it('npm run events -- list --url gets a token by client credentials (private_key_jwt) and reads', async () => {
    const before = stack.lines.length;
    const { code, out, err } = await eventsList();
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.map((line) => (JSON.parse(line) as { uuid: string }).uuid)).toEqual(storedUuids);
    expect(
      stack.lines.slice(before).find((line) => / GET \/events 200 .*user=0oascript/.test(line)),
    ).toBeDefined();
  });

  it('verifies a token signed with a new key after a rotation (the keys are fetched again)', async () => {
    const newKid = org!.authorizationServer.rotateKeys();
    const { keys } = (await (await fetch(`${issuer}/v1/keys`)).json()) as { keys: Claims[] };
    expect(keys.map((key) => key.kid)).toContain(newKid);
    const { code, out } = await eventsList();
    expect(code).toBe(0);
    expect(out).toHaveLength(2);
  });

  it('says in one line why the CLI could not get a token', async () => {
    const { code, err } = await eventsList({ OKTA_CLIENT_ID: '0oanotregistered' });
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err.join('\n')).toMatch(
      /cannot get an access token for the read API from OKTA_ISSUER with OKTA_CLIENT_ID 0oanotregistered: .*invalid_client/,
    );
    expect(err.join('\n')).not.toContain('PRIVATE KEY');
  });
});

describe('oauth2-mock-server at the issuer address', () => {
  beforeAll(() => mock.start(Number(new URL(issuer).port), '127.0.0.1'));

  it('accepts a token from the token endpoint (client credentials) and logs its subject', async () => {
    // The fake org answered at this address before: a pooled connection to it is closed now.
    const response = await fetchOnFreshSocket()(`${issuer}/v1/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${SCRIPT_CLIENT}:secret`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=events:read',
    });
    const { access_token: token } = (await response.json()) as { access_token: string };
    const answer = await read(`Bearer ${token}`, '/events?limit=5&type=okta-token-test');
    expect(answer).toMatchObject({ status: 200, body: { events: [] } });
    expect(
      stack.lines.find(
        (line) => line.includes('GET /events 200') && line.includes(`user=${SCRIPT_CLIENT}`),
      ),
    ).toBeDefined();
  });

  it.each<[string, (claims: Claims) => void]>([
    ['scp as a space-separated string', (c) => (c.scp = 'openid events:read')],
    [
      'an allowed group and no scope',
      (c) => Object.assign(c, { scp: ['openid'], groups: ['Everyone', 'okta-events-readers'] }),
    ],
  ])('accepts %s', async (_, change) => {
    expect((await read(`Bearer ${await mint(change)}`)).status).toBe(200);
  });

  const invalid = (why: string) =>
    new RegExp(`^Bearer error="invalid_token", error_description="${why}"$`);

  it.each<[string, () => Promise<string>, RegExp]>([
    [
      'an expired token',
      () => mint((c) => (c.exp = Math.floor(Date.now() / 1000) - 120)),
      invalid('it has expired'),
    ],
    [
      'a token not valid yet',
      () => mint((c) => (c.nbf = Math.floor(Date.now() / 1000) + 600)),
      invalid('it is not valid yet \\(nbf\\)'),
    ],
    [
      'another issuer',
      () => mint((c) => (c.iss = 'https://other.example.com/oauth2/default')),
      invalid('it was issued by another issuer \\(iss\\)'),
    ],
    [
      'another audience',
      () => mint((c) => (c.aud = 'api://another')),
      invalid('it is for another audience \\(aud\\)'),
    ],
    [
      'another client',
      () => mint((c) => (c.cid = OTHER_CLIENT)),
      invalid('it was issued to a client \\(cid\\) this API does not accept'),
    ],
    [
      'alg none',
      async () => {
        const [, payload] = (await mint()).split('.');
        return `${segment({ alg: 'none', typ: 'JWT' })}.${payload}.`;
      },
      invalid('alg none is not allowed \\(RS256 only\\)'),
    ],
    [
      "HS256 signed with the issuer's public key",
      async () => {
        const jwk = mock.issuer.keys.toJSON()[0]!;
        const pem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
        const [, payload] = (await mint()).split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Claims;
        return new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
          .sign(new TextEncoder().encode(pem));
      },
      invalid('alg HS256 is not allowed \\(RS256 only\\)'),
    ],
    [
      'a kid the issuer does not publish',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const [, payload] = (await mint()).split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Claims;
        return new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'not-published' })
          .sign(privateKey);
      },
      invalid('it is signed with a key \\(kid\\) the issuer does not publish'),
    ],
    [
      'a payload changed after signing',
      async () => {
        const [header, payload, signature] = (await mint()).split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Claims;
        return `${header}.${segment({ ...claims, sub: 'admin@example.com' })}.${signature}`;
      },
      invalid('its signature does not verify'),
    ],
  ])('refuses %s with 401 invalid_token and says why', async (_, token, challenge) => {
    const answer = await read(`Bearer ${await token()}`);
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_token');
    expect(answer.challenge).toMatch(challenge);
    const why = /error_description="([^"]+)"/.exec(answer.challenge ?? '')![1]!;
    expect(logLine(`401 invalid_token: The access token is refused: ${why}.`)).toBeDefined();
  });

  it.each<[string, Claims]>([
    ['neither the scope nor an allowed group', { scp: ['openid'], groups: ['Everyone'] }],
    ['a scope that only starts like it', { scp: 'openid events:readx' }],
    ['the scope with a space inside a list entry', { scp: ['events:read openid'] }],
    ['scp as an object', { scp: { 'events:read': true } }],
  ])('refuses a valid token with %s: 403 insufficient_scope', async (_, claims) => {
    const answer = await read(`Bearer ${await mint((c) => Object.assign(c, claims))}`);
    expect(answer).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
    expect(answer.challenge).toBe('Bearer error="insufficient_scope", scope="events:read"');
  });

  it('takes a `groups` claim that is not a list as one group name: a name with a space is not split', async () => {
    const answer = await read(
      `Bearer ${await mint((c) => Object.assign(c, { scp: ['openid'], groups: 'Not okta-events-readers' }))}`,
    );
    expect(answer).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
  });

  it('refuses the static token while READ_API_STATIC_TOKENS=false', async () => {
    const answer = await read(`Bearer ${STATIC_TOKEN}`);
    expect(answer).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(answer.body.message).toMatch(
      /Static bearer tokens \(EVENTS_API_TOKEN\) are off on this stage/,
    );
  });

  it('never logs a token', async () => {
    const token = await mint();
    await read(`Bearer ${token}`);
    const [, , signature] = token.split('.');
    expect(stack.lines.filter((line) => line.includes(signature!))).toEqual([]);
  });

  it('pages with cursors where only an issuer is configured (no static token to sign them with)', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const handler = createReadApiHandler({
      config: loadConfig({
        STAGE: 'staging',
        OKTA_ISSUER: issuer,
        OKTA_API_AUDIENCE: AUDIENCE,
        EVENTS_TABLE: stack.tableName,
      }),
      queries: new EventQueries(stack.db.client, stack.tableName),
      accessTokens: new AccessTokenVerifier(),
    });
    const authorization = `Bearer ${await mint()}`;
    const page = async (query: Record<string, string>) => {
      const event = v2Event({ method: 'GET', path: '/events', headers: { authorization } });
      event.queryStringParameters = query;
      const response = await handler(event);
      expect(response.statusCode).toBe(200);
      return JSON.parse(response.body!) as {
        events: { uuid: string }[];
        nextCursor: string | null;
      };
    };
    const first = await page({ limit: '1' });
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await page({ limit: '1', cursor: first.nextCursor! });
    expect([...first.events, ...second.events].map((e) => e.uuid)).toEqual(storedUuids);
    jest.restoreAllMocks();
  });

  // Last: it spends this address's allowance of failed bearer tokens.
  it('counts refused access tokens in the failure limiter, which is checked before the token', async () => {
    let status = 0;
    for (let i = 0; i <= FAILURE_BURST && status !== 429; i++) {
      status = (await read('Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).status;
    }
    expect(status).toBe(429);
    // Even a valid token now gets 429: a guesser learns nothing about any token.
    expect((await read(`Bearer ${await mint()}`)).status).toBe(429);
  });
});

describe('an issuer that answers badly (the verifier in-process)', () => {
  const policy = () => ({
    apiAudience: AUDIENCE,
    apiScopes: ['events:read'],
    apiGroups: [],
    apiClientIds: [],
    jwksRefetchCooldownMs: 30_000,
  });
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('gives up on an issuer that does not answer, bounded by its timeout: 503, not 401', async () => {
    server = await startTestServer(() => 'hang');
    const verifier = new AccessTokenVerifier({ timeoutMs: 200 });
    const verifying = verifier.verify(await mint(), { ...policy(), issuer: server.url });
    await expect(verifying).rejects.toBeInstanceOf(IssuerUnavailableError);
    await expect(verifying).rejects.toThrow(
      `cannot reach ${server.url}/.well-known/openid-configuration: timeout`,
    );
  });

  it('falls back to RFC 8414 metadata, and checks its issuer', async () => {
    const urls: string[] = [];
    server = await startTestServer((_, n) =>
      n === 0
        ? { status: 404 }
        : {
            status: 200,
            contentType: 'application/json',
            body: JSON.stringify({ issuer: 'https://elsewhere.example.com', jwks_uri: 'x' }),
          },
    );
    const verifier = new AccessTokenVerifier({
      fetch: (url, init) => {
        urls.push(String(url));
        return fetch(url, init);
      },
    });
    await expect(
      verifier.verify(await mint(), { ...policy(), issuer: server.url }),
    ).rejects.toThrow(
      /discovery document names another issuer \(https:\/\/elsewhere\.example\.com\): check OKTA_ISSUER/,
    );
    expect(urls).toEqual([
      `${server.url}/.well-known/openid-configuration`,
      `${server.url}/.well-known/oauth-authorization-server`,
    ]);
  });

  // Through the verifier: the address's allowance of failed tokens at the stack is spent above.
  it.each<[string, () => Promise<string>, string]>([
    [
      "a key of its own in the header (jwk, jku): only the issuer's published keys count",
      async () => {
        const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
        const [, payload] = (await mint()).split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Claims;
        return new SignJWT(claims)
          .setProtectedHeader({
            alg: 'RS256',
            kid: 'mock-key-1',
            jwk: await exportJWK(publicKey),
            jku: 'http://127.0.0.1:9/keys',
          })
          .sign(privateKey);
      },
      'its signature does not verify',
    ],
    ['a token with no exp', () => mint((c) => delete c.exp), 'its exp claim is missing'],
    [
      'a critical header parameter it does not understand (crit)',
      async () => {
        const [, payload, signature] = (await mint()).split('.');
        const header = { alg: 'RS256', kid: 'mock-key-1', crit: ['urn:x'], 'urn:x': 1 };
        return `${segment(header)}.${payload}.${signature}`;
      },
      'it uses a critical header parameter (crit) or a key this API does not support',
    ],
  ])('refuses %s', async (_, token, why) => {
    await expect(
      new AccessTokenVerifier().verify(await token(), { ...policy(), issuer }),
    ).rejects.toMatchObject({ statusCode: 401, message: `The access token is refused: ${why}.` });
  });

  /** An issuer whose discovery names `endpoints(its url)`; any later request gets `keys`. */
  function issuerAnswering(endpoints: (url: string) => Claims, keys = '{"keys":[]}') {
    return startTestServer((request, n) =>
      n === 0
        ? {
            status: 200,
            contentType: 'application/json',
            body: JSON.stringify({ issuer: server!.url, ...endpoints(server!.url) }),
          }
        : { status: 200, contentType: 'application/json', body: keys },
    );
  }
  /** fetch that records every URL and reaches only this machine (no request leaves it). */
  function localFetch(urls: string[]): typeof fetch {
    return (url, init) => {
      urls.push(String(url));
      if (new URL(String(url)).hostname !== '127.0.0.1') {
        return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ENETUNREACH' } }));
      }
      return fetch(url, init);
    };
  }

  it('refuses plain http endpoints on another host, even from an http issuer on this machine', async () => {
    const remote = 'http://203.0.113.7/oauth2/default';
    server = await issuerAnswering(() => ({ jwks_uri: `${remote}/v1/keys` }));
    const urls: string[] = [];
    const verifier = new AccessTokenVerifier({ fetch: localFetch(urls) });
    await expect(
      verifier.verify(await mint(), { ...policy(), issuer: server.url }),
    ).rejects.toThrow(`${server.url}'s jwks_uri is not https`);
    // The CLI's client credentials: its private-key assertion would go to the token endpoint.
    await server.close();
    server = await issuerAnswering((url) => ({
      jwks_uri: `${url}/keys`,
      token_endpoint: `${remote}/v1/token`,
    }));
    await expect(
      discoverIssuer(server.url, { fetch: localFetch(urls), timeoutMs: 2000 }),
    ).rejects.toThrow(`${server.url}'s token_endpoint is not https`);
    expect(urls.filter((url) => url.startsWith(remote))).toEqual([]);
  });

  it('reads at most 1 MB of a discovery document or key set: 503, not an exhausted container', async () => {
    const huge = JSON.stringify({ keys: [], padding: 'x'.repeat(2 * 1024 * 1024) });
    server = await issuerAnswering((url) => ({ jwks_uri: `${url}/keys` }), huge);
    const verifying = new AccessTokenVerifier().verify(await mint(), {
      ...policy(),
      issuer: server.url,
    });
    await expect(verifying).rejects.toBeInstanceOf(IssuerUnavailableError);
    await expect(verifying).rejects.toThrow(/keys.*larger than 1 MB/);
    await server.close();
    server = await issuerAnswering((url) => ({ jwks_uri: `${url}/keys`, padding: huge }));
    await expect(discoverIssuer(server.url, { timeoutMs: 2000 })).rejects.toThrow(
      /openid-configuration is larger than 1 MB/,
    );
  });

  it('answers 503 through the read API when the keys cannot be fetched', async () => {
    server = await startTestServer((request, n) =>
      n === 0
        ? {
            status: 200,
            contentType: 'application/json',
            body: JSON.stringify({ issuer: server!.url, jwks_uri: `${server!.url}/keys` }),
          }
        : { status: 500 },
    );
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const handler = createReadApiHandler({
      config: loadConfig({
        STAGE: 'staging',
        OKTA_ISSUER: server.url,
        OKTA_API_AUDIENCE: AUDIENCE,
      }),
      accessTokens: new AccessTokenVerifier(),
    });
    const token = await mint((claims) => (claims.iss = server!.url));
    const response = await handler(
      v2Event({ method: 'GET', path: '/events', headers: { authorization: `Bearer ${token}` } }),
    );
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body!)).toMatchObject({ error: 'issuer_unavailable' });
    expect(response.headers?.['retry-after']).toBe('5');
    jest.restoreAllMocks();
  });
});
