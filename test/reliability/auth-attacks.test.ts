/**
 * Auth attacks through a real serverless offline (raw HTTP, so repeated headers and header-name
 * casing reach the service as sent) and in-process for a Hookdeck-only configuration and REST
 * API events. Every attack is answered 401 and stores nothing: no delivery record for the store
 * function to pick up, no event once the stream is drained. The one genuine delivery among them
 * is stored (so the checks can see a store). No log line holds a secret or any Authorization
 * value presented.
 */
import { randomUUID } from 'node:crypto';
import { type OutgoingHttpHeaders, request } from 'node:http';
import { hookdeckSignature } from '../../lib/http/auth';
import { loadConfig } from '../../lib/config';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { v1Event, v2Event } from '../helpers/api-gateway';
import { allItems } from '../helpers/dynamodb';
import { type TestStack, startTestStack } from '../helpers/offline';
import { delivery, logEvent } from '../helpers/okta';
import { recordFigure } from './figures';

const SECRET = 'Basic YXR0YWNrOnJlbGlhYmlsaXR5LXNlY3JldA==';
const SIGNING = 'whsec_reliability_signing_secret';
const WRONG = 'Basic d3Jvbmc6d3Jvbmctd3Jvbmctd3Jvbmc=';
let stack: TestStack;
const logLines: string[] = [];
/** Every Authorization (and signature) value an attack presented: none may reach a log. */
const presented = new Set<string>([SECRET, SIGNING]);
const attackUuids: string[] = [];
/** Envelope eventIds of the attacks: none may have a delivery record. */
const attackEventIds: string[] = [];
let attacks = 0;

beforeAll(async () => {
  stack = await startTestStack({ OKTA_AUTH_SECRET: SECRET, HOOKDECK_SIGNING_SECRET: SIGNING });
  jest.spyOn(console, 'log').mockImplementation((l: unknown) => void logLines.push(String(l)));
  jest.spyOn(console, 'error').mockImplementation((l: unknown) => void logLines.push(String(l)));
}, 180_000);

afterAll(async () => {
  jest.restoreAllMocks();
  recordFigure('auth attacks', 'attacks tried (all 401, nothing stored)', attacks);
  expect(await stack?.stop()).toEqual([]);
  const logs = [...logLines, ...stack.lines];
  expect(logs.length).toBeGreaterThan(attacks); // the requests were logged...
  expect([...presented].filter((value) => logs.some((l) => l.includes(value)))).toEqual([]); // ...without a secret
});

/** One raw HTTP exchange: header arrays are sent as repeated lines, names as spelled. */
function raw(
  method: 'GET' | 'POST',
  headers: OutgoingHttpHeaders | string[],
  body?: string,
): Promise<{ status: number; body: string }> {
  const values = Array.isArray(headers)
    ? headers.filter((_, i) => i % 2 === 1)
    : Object.values(headers).flat();
  for (const value of values)
    if (typeof value === 'string' && value.length >= 8) presented.add(value);
  return new Promise((resolve, reject) => {
    const req = request(stack.url, { method, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function attackBody(): string {
  const body = delivery([logEvent(), logEvent()]);
  attackUuids.push(...body.data.events.map((e) => e.uuid as string));
  attackEventIds.push(body.eventId);
  return JSON.stringify(body);
}

const json = { 'content-type': 'application/json' };
const nearMiss = (s: string) => s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);

const postAttacks: Array<[string, (body: string) => OutgoingHttpHeaders | string[]]> = [
  ['no Authorization header', () => json],
  ['an empty Authorization header', () => ({ ...json, authorization: '' })],
  ['a wrong secret', () => ({ ...json, authorization: WRONG })],
  ['a near miss of equal length', () => ({ ...json, authorization: nearMiss(SECRET) })],
  [
    'the scheme in another case',
    () => ({ ...json, authorization: SECRET.replace('Basic', 'basic') }),
  ],
  ['the secret plus one character', () => ({ ...json, authorization: `${SECRET}A` })],
  ['the secret less one character', () => ({ ...json, authorization: SECRET.slice(0, -1) })],
  ['only the credentials, no scheme', () => ({ ...json, authorization: SECRET.slice(6) })],
  ['the secret twice in one value', () => ({ ...json, authorization: `${SECRET}, ${SECRET}` })],
  // serverless offline hands the handler only the last of repeated headers (API Gateway joins
  // them with ", "; the in-process test below covers that): so here no value is the secret.
  [
    'the header repeated: wrong twice',
    () => ({ ...json, authorization: [WRONG, nearMiss(SECRET)] }),
  ],
  ['the name upper-cased, a wrong value', () => ({ ...json, AUTHORIZATION: WRONG })],
  ['the name mixed-case, a near miss', () => ({ ...json, aUtHoRiZaTiOn: nearMiss(SECRET) })],
  ['a look-alike name (Authorisation)', () => ({ ...json, Authorisation: SECRET })],
  ['a look-alike name (X-Authorization)', () => ({ ...json, 'X-Authorization': SECRET })],
  ['the secret in Proxy-Authorization', () => ({ ...json, 'Proxy-Authorization': SECRET })],
  [
    'a Hookdeck signature over a different body, right secret',
    () => ({
      ...json,
      authorization: SECRET,
      'x-hookdeck-signature': hookdeckSignature(Buffer.from(attackBody()), SIGNING),
    }),
  ],
  [
    'a Hookdeck signature over a different body, no secret',
    () => ({
      ...json,
      'x-hookdeck-signature': hookdeckSignature(Buffer.from(attackBody()), SIGNING),
    }),
  ],
  [
    'a signature-2 over a different body, right secret',
    () => ({
      ...json,
      authorization: SECRET,
      'x-hookdeck-signature-2': hookdeckSignature(Buffer.from(attackBody()), SIGNING),
    }),
  ],
  [
    'a signature made with another signing secret, right secret',
    (body) => ({
      ...json,
      authorization: SECRET,
      'x-hookdeck-signature': hookdeckSignature(Buffer.from(body), 'whsec_other'),
    }),
  ],
];

it.each(postAttacks)('POST with %s: 401, nothing stored', async (_name, headersFor) => {
  const body = attackBody();
  const response = await raw('POST', headersFor(body), body);
  attacks++;
  expect(response.status).toBe(401);
  expect(JSON.parse(response.body)).toMatchObject({ error: 'unauthorized' });
});

/** The one delivery sent with the right secret and signature. */
const genuineUuids: string[] = [];
let genuineEventId = '';

it('a valid signed delivery is accepted; replayed with a modified body it is 401', async () => {
  const genuine = delivery([logEvent()]);
  genuineUuids.push(...genuine.data.events.map((e) => e.uuid as string));
  genuineEventId = genuine.eventId;
  const original = JSON.stringify(genuine);
  const signature = hookdeckSignature(Buffer.from(original), SIGNING);
  // Header names in any case are the same header (HTTP): this one is accepted.
  const accepted = await raw(
    'POST',
    { ...json, aUtHoRiZaTiOn: SECRET, 'x-hookdeck-signature': signature },
    original,
  );
  expect(accepted.status).toBe(204);

  const tampered = original
    .replace(/"severity":"INFO"/, '"severity":"ERROR"')
    .replace(/"uuid":"[^"]+"/, () => {
      const uuid = randomUUID();
      attackUuids.push(uuid);
      return `"uuid":"${uuid}"`;
    });
  expect(tampered).not.toBe(original);
  for (const headers of [
    { ...json, authorization: SECRET, 'x-hookdeck-signature': signature },
    { ...json, 'x-hookdeck-signature': signature },
  ]) {
    const replay = await raw('POST', headers, tampered);
    attacks++;
    expect(replay.status).toBe(401);
  }
});

it.each([
  ['no secret', {}],
  ['a wrong secret', { authorization: WRONG }],
  ['a near miss', { authorization: nearMiss(SECRET) }],
])('GET (verification) with %s: 401', async (_name, headers) => {
  const response = await raw('GET', {
    ...headers,
    'X-Okta-Verification-Challenge': 'challenge-value',
  });
  attacks++;
  expect(response.status).toBe(401);
  expect(response.body).not.toContain('challenge-value');
});

it('in-process, Hookdeck-only and REST API events: forged, replayed and doubled headers are 401', async () => {
  const tableName = await stack.db.newTable();
  const handler = createDeliveryHandler({
    config: loadConfig({
      HOOKDECK_SIGNING_SECRET: SIGNING,
      EVENTS_TABLE: tableName,
      STAGE: 'staging',
    }),
    deliveries: new DeliveryStore(stack.db.client, tableName),
  });
  const both = createDeliveryHandler({
    config: loadConfig({ OKTA_AUTH_SECRET: SECRET, EVENTS_TABLE: tableName }),
    deliveries: new DeliveryStore(stack.db.client, tableName),
  });
  const body = attackBody();
  const other = attackBody();
  const cases = [
    handler(v2Event({ body, headers: json })),
    handler(v2Event({ body, headers: { ...json, 'x-hookdeck-signature': '' } })),
    handler(
      v2Event({
        body,
        headers: {
          ...json,
          'x-hookdeck-signature': hookdeckSignature(Buffer.from(other), SIGNING),
        },
      }),
    ),
    handler(
      v2Event({
        body: other + ' ',
        headers: {
          ...json,
          'x-hookdeck-signature': hookdeckSignature(Buffer.from(other), SIGNING),
        },
      }),
    ),
    // HTTP API joins a repeated header with ", " (wrong and right, right twice): not a secret.
    both(v2Event({ body, headers: { ...json, authorization: `${WRONG}, ${SECRET}` } })),
    both(v2Event({ body, headers: { ...json, authorization: `${SECRET}, ${SECRET}` } })),
    // REST API (payload v1) keeps each repetition: the wrong one is not ignored.
    both(
      v1Event({
        body,
        headers: json,
        multiValueHeaders: {
          'Content-Type': ['application/json'],
          Authorization: [WRONG],
          authorization: [SECRET],
        },
      }),
    ),
    both(
      v1Event({
        body,
        headers: json,
        multiValueHeaders: {
          'Content-Type': ['application/json'],
          Authorization: [SECRET, SECRET],
        },
      }),
    ),
  ];
  for (const response of await Promise.all(cases)) {
    attacks++;
    expect(response.statusCode).toBe(401);
  }
  expect(await allItems(stack.db.client, tableName)).toEqual([]);
});

it('no attack stored anything; the genuine delivery was stored', async () => {
  await stack.streams.idle();
  expect(stack.failures).toEqual([]);
  const items = await allItems(stack.db.client, stack.tableName);
  const stored = new Set(items.filter((i) => i.itemType?.S === 'event').map((i) => i.uuid?.S));
  const heads = items.filter((i) => i.itemType?.S === 'delivery');
  const records = new Set(heads.map((i) => i.eventId?.S));
  expect(attackUuids.length).toBeGreaterThan(40);
  expect(attackUuids.filter((uuid) => stored.has(uuid))).toEqual([]);
  expect(attackEventIds.filter((id) => records.has(id))).toEqual([]);
  expect(genuineUuids.length).toBe(1);
  expect(genuineUuids.filter((uuid) => stored.has(uuid))).toEqual(genuineUuids);
  // The tampered replays carried the genuine eventId: none became a second delivery.
  expect(heads.filter((h) => h.eventId?.S === genuineEventId).map((h) => h.status?.S)).toEqual([
    'stored',
  ]);
});
