/**
 * The read API with Okta access tokens, through a real serverless offline (one stack for the
 * file), against oauth2-mock-server: an OAuth 2.0 provider written by others, with discovery, a
 * JWKS and a token endpoint, so the verifier is not only tested against code written alongside
 * it. Every bad token is refused with the right status, WWW-Authenticate challenge and log
 * reason; static tokens are off on this stack; the issuer is down before it is first reached.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { Events, OAuth2Server } from 'oauth2-mock-server';
import { freePort } from '../../lib/local/local-stack';
import { type TestStack, startTestStack } from '../helpers/offline';

const AUDIENCE = 'api://okta-events-test';
const SCRIPT_CLIENT = '0oascript';
const OTHER_CLIENT = '0oaother';
const STATIC_TOKEN = 'static-token-1-of-32-characters-at-least';

let mock: OAuth2Server;
let issuer: string;
let stack: TestStack;

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
  mock.issuer.url = issuer; // set before start: the first test runs while it is not listening
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
    LOG_FORMAT: 'pretty',
  });
}, 180_000);

afterAll(async () => {
  if (stack) expect(await stack.stop()).toEqual([]);
  if (mock?.listening) await mock.stop();
});

it('answers 503 while the issuer cannot be reached, and 200 once it can (the failure is not cached)', async () => {
  const token = await mint();
  const down = await read(`Bearer ${token}`);
  expect(down).toMatchObject({ status: 503, body: { error: 'issuer_unavailable' } });
  expect(down.challenge).toBeNull();
  expect(logLine('issuer_unavailable')).toMatch(
    /503 issuer_unavailable: cannot reach http:\/\/127\.0\.0\.1:\d+\/oauth2\/default\/\.well-known\/openid-configuration: ECONNREFUSED/,
  );

  await mock.start(Number(new URL(issuer).port), '127.0.0.1');
  expect(await read(`Bearer ${token}`)).toMatchObject({ status: 200, body: { events: [] } });
});

it('accepts a token from the token endpoint (client credentials) and logs its subject', async () => {
  const response = await fetch(`${issuer}/v1/token`, {
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
    () => mint((c) => (c.aud = 'api://default')),
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

it('refuses a valid token with neither the scope nor an allowed group: 403 insufficient_scope', async () => {
  const answer = await read(
    `Bearer ${await mint((c) => Object.assign(c, { scp: ['openid'], groups: ['Everyone'] }))}`,
  );
  expect(answer).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
  expect(answer.challenge).toBe('Bearer error="insufficient_scope", scope="events:read"');
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
