/**
 * End to end over HTTP: a real `serverless offline` (on a free port, not 1337) with a real
 * DynamoDB Local, as Okta, Hookdeck and the project's CLI reach them.
 */
import { request } from 'node:http';
import { hookdeckSignature } from '../../lib/http/auth';
import { DEFAULT_TABLE_NAME } from '../../lib/config';
import { type TestDynamoDb, allItems } from '../helpers/dynamodb';
import { type TestStack, startTestStack } from '../helpers/offline';
import {
  SAMPLE_EVENT_UUID,
  delivery,
  logEvent,
  sampleDelivery,
  sampleDeliveryText,
} from '../helpers/okta';
import { runScript } from '../helpers/run';

const SECRET = 'Basic YWRtaW46c3VwZXJzZWNyZXQ=';
const SIGNING = 'whsec_e2e';
const READ_TOKEN = 'read-token-e2e';
let stack: TestStack;
let db: TestDynamoDb;
let offline: TestStack['offline'];
let url: string;
let offlineLines: string[];

beforeAll(async () => {
  stack = await startTestStack({
    OKTA_AUTH_SECRET: SECRET,
    HOOKDECK_SIGNING_SECRET: SIGNING,
    EVENTS_API_TOKEN: READ_TOKEN,
  });
  ({ db, offline, url } = stack);
  offlineLines = stack.lines;
}, 120_000);

afterAll(async () => {
  expect(await stack?.stop()).toEqual([]);
});

/** Log lines of one kind (`request`, `store`) that the functions printed. */
function logged(msg: string): Record<string, unknown>[] {
  return offlineLines
    .filter((l) => l.includes(`{"msg":"${msg}"`))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
}

const oktaHeaders = {
  'content-type': 'application/json',
  accept: 'application/json',
  'user-agent': 'Okta-Integrations',
  authorization: SECRET,
};

it('answers Okta verification like Okta expects', async () => {
  const ok = await fetch(url, {
    headers: { ...oktaHeaders, 'X-Okta-Verification-Challenge': 'QbP8T9sJ2yRfm' },
  });
  expect(ok.status).toBe(200);
  expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await ok.json()).toEqual({ verification: 'QbP8T9sJ2yRfm' });

  const noSecret = await fetch(url, { headers: { 'X-Okta-Verification-Challenge': 'x' } });
  expect(noSecret.status).toBe(401);
  const noChallenge = await fetch(url, { headers: oktaHeaders });
  expect(noChallenge.status).toBe(400);
  expect(await noChallenge.json()).toMatchObject({ error: 'missing_challenge' });
});

it('stores the Okta sample delivery once, readable with `npm run events`', async () => {
  const first = await fetch(url, {
    method: 'POST',
    headers: oktaHeaders,
    body: sampleDeliveryText,
  });
  expect(first.status).toBe(204);
  expect(await first.text()).toBe('');
  const again = await fetch(url, {
    method: 'POST',
    headers: oktaHeaders,
    body: sampleDeliveryText,
  });
  expect(again.status).toBe(204);
  await stack.streams.idle();

  const env = { DYNAMODB_ENDPOINT: db.local.endpoint };
  const got = await runScript('scripts/events.ts', ['get', SAMPLE_EVENT_UUID], env);
  expect(got.code).toBe(0);
  expect(JSON.parse(got.stdout)).toEqual(sampleDelivery().data.events[0]);

  const listed = await runScript('scripts/events.ts', ['list', '--limit', '5'], env);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(
    new RegExp(
      `^${SAMPLE_EVENT_UUID}\\s+2023-03-26T21:05:32.159Z\\s+user.session.start\\s+admin@okta.com\\s+unknown$`,
      'm',
    ),
  );

  const missing = await runScript('scripts/events.ts', ['get', 'no-such-uuid'], env);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('No event with uuid no-such-uuid');

  const items = await allItems(db.client, DEFAULT_TABLE_NAME);
  expect(
    items.filter((i) => i.itemType?.S === 'event' && i.uuid?.S === SAMPLE_EVENT_UUID),
  ).toHaveLength(1);
  const requests = logged('request').filter(
    (l) => l.deliveryId === '85b60edb-4263-4e13-993b-818e26201052',
  );
  expect(requests.map((l) => [l.status, l.received])).toEqual([
    [204, 'new'],
    [204, 'again (attempt 2)'],
  ]);
  const stores = logged('store').filter(
    (l) => l.deliveryId === '85b60edb-4263-4e13-993b-818e26201052',
  );
  expect(stores.map((l) => [l.stored, l.duplicates])).toEqual([[1, 0]]);
});

it('accepts a Hookdeck-forwarded delivery with a valid signature and refuses a forged one', async () => {
  const event = logEvent();
  const body = JSON.stringify(delivery([event]));
  const hookdeck = {
    ...oktaHeaders,
    'x-hookdeck-eventid': 'evt_e2e',
    'x-hookdeck-signature': hookdeckSignature(Buffer.from(body), SIGNING),
  };
  expect((await fetch(url, { method: 'POST', headers: hookdeck, body })).status).toBe(204);

  const forged = JSON.stringify(delivery([logEvent()]));
  const refused = await fetch(url, { method: 'POST', headers: hookdeck, body: forged });
  expect(refused.status).toBe(401);
  expect(await refused.json()).toEqual({
    error: 'unauthorized',
    message: 'The x-hookdeck-signature header does not match the request body.',
  });
});

it('refuses malformed bodies over HTTP with a JSON error', async () => {
  const response = await fetch(url, {
    method: 'POST',
    headers: oktaHeaders,
    body: '{"eventType": "com.okta.event_hook", ',
  });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({
    error: 'malformed_json',
    message: expect.stringMatching(/line 1, column/),
  });
});

it('serves the read API with its bearer token, and the CLI reads the same through --url', async () => {
  const events = `${offline.url}/events?type=user.session.start`;
  const denied = await fetch(events);
  expect(denied.status).toBe(401);
  const allowed = await fetch(events, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
  expect(allowed.status).toBe(200);
  const body = (await allowed.json()) as {
    events: Array<{ uuid: string }>;
    nextCursor: string | null;
  };
  expect(body.events.map((e) => e.uuid)).toContain(SAMPLE_EVENT_UUID);

  const one = await fetch(`${offline.url}/events/${SAMPLE_EVENT_UUID}`, {
    headers: { authorization: `Bearer ${READ_TOKEN}` },
  });
  expect(await one.json()).toEqual(sampleDelivery().data.events[0]);

  const local = { DYNAMODB_ENDPOINT: db.local.endpoint };
  const remote = { EVENTS_API_URL: offline.url, EVENTS_API_TOKEN: READ_TOKEN };
  for (const env of [local, remote]) {
    const byType = await runScript(
      'scripts/events.ts',
      ['list', '--type', 'user.session.start', '--json'],
      env,
    );
    expect(byType.code).toBe(0);
    const lines = byType.stdout.trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(sampleDelivery().data.events[0]);
    const byUser = await runScript(
      'scripts/events.ts',
      ['list', '--user', 'ADMIN@okta.com', '--json'],
      env,
    );
    const found = byUser.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(found.map((e) => e.uuid)).toContain(SAMPLE_EVENT_UUID);
    expect(found.every((e) => e.actor.alternateId === 'admin@okta.com')).toBe(true);
    const deliveries = await runScript('scripts/events.ts', ['deliveries', '--json'], env);
    expect(deliveries.stdout).toContain('"deliveryId":"85b60edb-4263-4e13-993b-818e26201052"');
  }

  const wrongToken = await runScript('scripts/events.ts', ['list'], {
    ...remote,
    EVENTS_API_TOKEN: 'nope',
  });
  expect(wrongToken.code).toBe(1);
  expect(wrongToken.stderr.trim()).toMatch(
    /^events: http:\/\/localhost:\d+ answered 401: The bearer token is not an accepted EVENTS_API_TOKEN\.$/,
  );
});

/** A request as sent, header lines and all: fetch would add a Content-Type and join repeats. */
function rawRequest(
  method: string,
  headers: Record<string, string | string[]>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    req.on('error', reject);
    req.end(body);
  });
}

describe('as API Gateway does (deploy/offline-as-api-gateway.js)', () => {
  it('gives each request its own request id', async () => {
    const challenge = { 'x-okta-verification-challenge': 'c', authorization: SECRET };
    await rawRequest('GET', challenge);
    await rawRequest('GET', challenge);
    const ids = offlineLines
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => (JSON.parse(l.slice(l.indexOf('{'))) as { requestId: string }).requestId);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[\w=]{16}$/.test(id))).toBe(true);
  });

  it('answers 415 to a delivery without Content-Type (serverless offline would add one)', async () => {
    const answer = await rawRequest('POST', { authorization: SECRET }, sampleDeliveryText);
    expect(answer.status).toBe(415);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'unsupported_media_type' });
  });

  it('joins a repeated Authorization header with commas: a wrong one before the right one is refused', async () => {
    const challenge = { 'x-okta-verification-challenge': 'c' };
    const once = await rawRequest('GET', { ...challenge, authorization: SECRET });
    expect(once.status).toBe(200);
    for (const twice of [
      ['Basic d3Jvbmc=', SECRET],
      [SECRET, 'Basic d3Jvbmc='],
      [SECRET, SECRET],
    ]) {
      const answer = await rawRequest('GET', { ...challenge, authorization: twice });
      expect({ twice, status: answer.status }).toEqual({ twice, status: 401 });
    }
  });
});

it('never writes the secret or the Authorization value to its output', () => {
  const output = offlineLines.join('\n');
  expect(output).toContain('"status":204');
  expect(output).not.toContain('YWRtaW46c3VwZXJzZWNyZXQ');
  expect(output).not.toContain(SIGNING);
  expect(output).not.toContain(READ_TOKEN);
});

it('answers a 500-event delivery 204 at once; the stream then stores every event', async () => {
  const events = Array.from({ length: 500 }, () => logEvent());
  const response = await fetch(url, {
    method: 'POST',
    headers: oktaHeaders,
    body: JSON.stringify(delivery(events, { eventId: 'e2e-500' })),
  });
  expect(response.status).toBe(204);
  await stack.streams.idle();
  const stored = new Set(
    (await allItems(db.client, DEFAULT_TABLE_NAME))
      .filter((i) => i.itemType?.S === 'event')
      .map((i) => i.uuid!.S),
  );
  expect(events.filter((e) => !stored.has(e.uuid as string))).toEqual([]);
  expect(logged('store').find((l) => l.deliveryId === 'e2e-500')).toMatchObject({
    events: 500,
    stored: 500,
    duplicates: 0,
  });
});

it('refuses invalid UTF-8 inside a valid delivery with 400, although serverless offline decodes it as text', async () => {
  const event = logEvent({ displayMessage: 'PLACEHOLDER' });
  const [before, after] = JSON.stringify(delivery([event])).split('PLACEHOLDER');
  const body = Buffer.concat([
    Buffer.from(before!),
    Buffer.from([0xff, 0xc3, 0x28]),
    Buffer.from(after!),
  ]);
  const response = await fetch(url, { method: 'POST', headers: oktaHeaders, body });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: 'invalid_encoding' });
  await stack.streams.idle();
  const items = await allItems(db.client, DEFAULT_TABLE_NAME);
  expect(items.some((i) => i.uuid?.S === event.uuid)).toBe(false);
});
