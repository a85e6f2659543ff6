/**
 * End to end over HTTP: a real `serverless offline` (on a free port, not 1337) with a real
 * DynamoDB Local, as Okta, Hookdeck and the project's CLI reach them.
 */
import { hookdeckSignature } from '../../lib/auth';
import { createDynamoDbClient } from '../../lib/dynamodb';
import { type ServerlessOffline, freePort, startServerlessOffline } from '../../lib/local-stack';
import { DEFAULT_TABLE_NAME } from '../../lib/config';
import { ensureTable } from '../../lib/table-definition';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';
import {
  SAMPLE_EVENT_UUID,
  delivery,
  logEvent,
  sampleDelivery,
  sampleDeliveryText,
} from '../helpers/okta';
import { isRunning, runScript } from '../helpers/run';

const SECRET = 'Basic YWRtaW46c3VwZXJzZWNyZXQ=';
const SIGNING = 'whsec_e2e';
let db: TestDynamoDb;
let offline: ServerlessOffline;
let url: string;
const offlineLines: string[] = [];

beforeAll(async () => {
  db = await startTestDynamoDb();
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.local.endpoint });
  await ensureTable(client, DEFAULT_TABLE_NAME);
  client.destroy();
  offline = await startServerlessOffline({
    httpPort: await freePort(),
    env: {
      ...process.env,
      OKTA_AUTH_SECRET: SECRET,
      HOOKDECK_SIGNING_SECRET: SIGNING,
      DYNAMODB_ENDPOINT: db.local.endpoint,
    },
    onLine: (line) => offlineLines.push(line),
  });
  url = `${offline.url}/okta-webhooks-endpoint`;
}, 120_000);

afterAll(async () => {
  const pids = [offline?.pid, db?.local.pid].filter((p): p is number => p !== undefined);
  await offline?.stop();
  await db?.stop();
  expect(pids.filter(isRunning)).toEqual([]);
});

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

  const env = { DYNAMODB_ENDPOINT: db.local.endpoint };
  const got = await runScript('scripts/events.ts', ['get', SAMPLE_EVENT_UUID], env);
  expect(got.code).toBe(0);
  expect(JSON.parse(got.stdout)).toEqual(sampleDelivery().data.events[0]);

  const listed = await runScript('scripts/events.ts', ['list', '--limit', '5'], env);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toContain(
    `${SAMPLE_EVENT_UUID}  2023-03-26T21:05:32.159Z  user.session.start  admin@okta.com`,
  );

  const missing = await runScript('scripts/events.ts', ['get', 'no-such-uuid'], env);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('No event with uuid no-such-uuid');

  const items = await allItems(db.client, DEFAULT_TABLE_NAME);
  expect(items.filter((i) => i.uuid?.S === SAMPLE_EVENT_UUID)).toHaveLength(1);
  const log = offlineLines
    .filter((l) => l.includes('"status":204'))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))));
  expect(log.map((l) => [l.stored, l.duplicates])).toEqual([
    [1, 0],
    [0, 1],
  ]);
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

it('never writes the secret or the Authorization value to its output', () => {
  const output = offlineLines.join('\n');
  expect(output).toContain('"status":204');
  expect(output).not.toContain('YWRtaW46c3VwZXJzZWNyZXQ');
  expect(output).not.toContain(SIGNING);
});
