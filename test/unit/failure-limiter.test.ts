/**
 * Token guessing is throttled per source address: wrong sign-ins (POST /ui/session) and wrong
 * bearer tokens on the read API. A clock the test moves stands in for time, so the verdicts do
 * not depend on how fast this machine is.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadConfig } from '../../lib/config';
import { FAILURE_BURST, FailureLimiter } from '../../lib/http/failure-limiter';
import { createReadApiHandler } from '../../lib/read-api/read-api';
import type { UiAssets } from '../../lib/ui/ui-assets';
import { createUiHandler } from '../../lib/ui/ui-endpoint';
import { v2Event } from '../helpers/api-gateway';

const TOKEN = 'a-read-token-of-32-characters-or-more-0123';
const config = loadConfig({ STAGE: 'staging', EVENTS_API_TOKEN: TOKEN });
const assets: UiAssets = { html: '', files: {}, version: 'v' } as unknown as UiAssets;
let nowMs = Date.parse('2026-12-03T12:00:00Z');
const now = () => nowMs;

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

function from(event: APIGatewayProxyEventV2, sourceIp: string): APIGatewayProxyEventV2 {
  event.requestContext.http.sourceIp = sourceIp;
  return event;
}

function signIn(token: string, sourceIp = '198.51.100.7') {
  return from(
    v2Event({
      method: 'POST',
      path: '/ui/session',
      headers: { 'content-type': 'application/json', host: 'events.example.com' },
      body: JSON.stringify({ token }),
    }),
    sourceIp,
  );
}

function bearer(token: string, sourceIp = '198.51.100.7') {
  return from(
    v2Event({ method: 'GET', path: '/events', headers: { authorization: `Bearer ${token}` } }),
    sourceIp,
  );
}

it(`answers 429 with Retry-After after ${FAILURE_BURST} failed sign-ins from one address`, async () => {
  const ui = createUiHandler({ config, assets, now, failures: new FailureLimiter(now) });
  for (let i = 0; i < FAILURE_BURST; i++) {
    expect((await ui(signIn(`guess-${i}`))).statusCode).toBe(401);
  }
  const throttled = await ui(signIn('guess-next'));
  expect(throttled.statusCode).toBe(429);
  expect(throttled.headers).toMatchObject({ 'retry-after': '6' });
  expect(JSON.parse(throttled.body!)).toEqual({
    error: 'too_many_failures',
    message: 'Too many failed sign-ins from this address: try again in 6 s.',
  });
  // Even the right token: while throttled, no token is compared at all.
  expect((await ui(signIn(TOKEN))).statusCode).toBe(429);
  // Another address is not held up.
  expect((await ui(signIn(TOKEN, '203.0.113.9'))).statusCode).toBe(200);
  // One failure's worth of time later, one more attempt.
  nowMs += 6_000;
  expect((await ui(signIn(TOKEN))).statusCode).toBe(200);
});

it('throttles wrong bearer tokens on the read API per address, and not session-less 401s', async () => {
  const readApi = createReadApiHandler({ config, failures: new FailureLimiter(now) });
  for (let i = 0; i < FAILURE_BURST; i++) {
    expect((await readApi(bearer(`guess-${i}`))).statusCode).toBe(401);
  }
  const throttled = await readApi(bearer('guess-next'));
  expect(throttled.statusCode).toBe(429);
  expect(Number(throttled.headers!['retry-after'])).toBeGreaterThan(0);
  expect((await readApi(bearer('guess-other', '203.0.113.9'))).statusCode).toBe(401);
  // Requests without a bearer token (an expired cookie, none at all) are not counted.
  const limiter = new FailureLimiter(now);
  const fresh = createReadApiHandler({ config, failures: limiter });
  for (let i = 0; i < FAILURE_BURST + 5; i++) {
    const plain = from(v2Event({ method: 'GET', path: '/events' }), '192.0.2.1');
    expect((await fresh(plain)).statusCode).toBe(401);
  }
  expect((await fresh(bearer('guess', '192.0.2.1'))).statusCode).toBe(401);
});

it('refuses every read on a deployed stage whose EVENTS_API_TOKEN is shorter than 32 characters', async () => {
  const short = 'readtoken123';
  const errors: string[] = [];
  jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
  for (const STAGE of ['staging', 'production']) {
    const weak = loadConfig({ STAGE, EVENTS_API_TOKEN: `${TOKEN},${short}` });
    const readApi = createReadApiHandler({ config: weak });
    const ui = createUiHandler({ config: weak, assets });
    for (const response of [await readApi(bearer(short)), await ui(signIn(short))]) {
      expect(response.statusCode).toBe(500);
      expect(JSON.parse(response.body!).error).toBe('not_configured');
    }
  }
  // One line for the operator, naming the length, never the value.
  expect(errors.join('\n')).toContain(
    `EVENTS_API_TOKEN holds a value of 12 characters: use 32 or more random ones (openssl rand -hex 32): refusing every read on stage \\"staging\\"`,
  );
  expect(errors.join('\n')).not.toContain(short);
  // Locally (npm start warns instead) it is accepted.
  const local = loadConfig({ IS_OFFLINE: 'true', EVENTS_API_TOKEN: short });
  const localUi = createUiHandler({ config: local, assets });
  expect((await localUi(signIn(short))).statusCode).toBe(200);
});
