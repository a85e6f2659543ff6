/**
 * The read API handler in-process against DynamoDB Local: bearer auth, every bad parameter,
 * exact event JSON in responses, the retention attribute written by the receiver, and the
 * routes between events and deliveries (an event's deliveries, a delivery's events).
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadConfig } from '../../lib/config';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { EventQueries } from '../../lib/store/event-queries';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { EventStore } from '../../lib/store/event-store';
import { createReadApiHandler } from '../../lib/read-api/read-api';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery, logEvent } from '../helpers/okta';
import { startTestStreams } from '../helpers/streams';

/** Posts to the receiver in-process and waits for the stream to store the events. */
async function receiveAndStore(
  table: string,
  env: Record<string, string>,
  body: string,
  now?: () => Date,
  headers: Record<string, string> = {},
) {
  // A generous budget: what is tested here is reading, not a busy machine's first request. The
  // store function makes its own client from the config: it must point at DynamoDB Local.
  const config = loadConfig({
    ...OFFLINE,
    EVENTS_TABLE: table,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    REQUEST_BUDGET_MS: '60000',
    ...env,
  });
  const streams = await startTestStreams(db, table, { config });
  try {
    const receive = createDeliveryHandler({
      config,
      deliveries: new DeliveryStore(db.client, table),
      now,
    });
    const response = await receive(
      v2Event({ body, headers: { 'content-type': 'application/json', ...headers } }),
    );
    expect(response.statusCode).toBe(204);
    await streams.idle();
    expect(streams.failures).toEqual([]);
  } finally {
    await streams.stop();
  }
}

const TOKEN = 'read-token-1-of-32-characters-at-least';
/** The open mode (no secret, no token) runs only under serverless offline, which sets this. */
const OFFLINE = { IS_OFFLINE: 'true' };
let db: TestDynamoDb;
let tableName: string;
let handler: ReturnType<typeof createReadApiHandler>;
const bigNumberEvent =
  '{"uuid":"big-1","eventType":"user.session.start","published":"2026-11-01T09:00:00.000Z","n":123456789012345678901234567890}';

beforeAll(async () => {
  db = await startTestDynamoDb();
  tableName = await db.newTable();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const body = `{"eventType":"com.okta.event_hook","eventId":"d-1","data":{"events":[${bigNumberEvent},${JSON.stringify(
    logEvent({
      uuid: 'e-2',
      published: '2026-11-01T10:00:00.000Z',
      eventType: 'user.lifecycle.create',
    }),
  )}]}}`;
  await receiveAndStore(tableName, {}, body, () => new Date('2026-11-02T00:00:00.000Z'));
  handler = createReadApiHandler({
    config: loadConfig({
      STAGE: 'staging',
      EVENTS_API_TOKEN: `old-token-of-32-characters-or-more,${TOKEN}`,
      EVENTS_TABLE: tableName,
    }),
    queries: new EventQueries(db.client, tableName),
  });
});
afterAll(async () => {
  jest.restoreAllMocks();
  await db?.stop();
});
beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));

function get(
  path: string,
  query: Record<string, string> = {},
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
) {
  const event: APIGatewayProxyEventV2 = v2Event({ method: 'GET', path, headers });
  event.queryStringParameters = query;
  return handler(event);
}

it('lists events with the exact JSON Okta sent, newest first', async () => {
  const response = await get('/events');
  expect(response.statusCode).toBe(200);
  expect(response.body).toContain(bigNumberEvent);
  const body = JSON.parse(response.body!);
  expect(body.events.map((e: { uuid: string }) => e.uuid)).toEqual(['e-2', 'big-1']);
  expect(body.nextCursor).toBeNull();
});

it('filters by type and gets one event', async () => {
  const byType = JSON.parse((await get('/events', { type: 'user.session.start' })).body!);
  expect(byType.events.map((e: { uuid: string }) => e.uuid)).toEqual(['big-1']);
  const one = await get('/events/big-1');
  expect(one.statusCode).toBe(200);
  expect(one.body).toBe(bigNumberEvent);
  const missing = await get('/events/nope');
  expect(missing.statusCode).toBe(404);
  expect(JSON.parse(missing.body!)).toMatchObject({ error: 'not_found' });
});

it('lists deliveries', async () => {
  const body = JSON.parse((await get('/deliveries', { limit: '10' })).body!);
  expect(body.deliveries).toHaveLength(1);
  expect(body.deliveries[0]).toMatchObject({
    deliveryId: 'd-1',
    status: 'stored',
    attempts: 1,
    eventCount: 2,
    storedCount: 2,
    headers: { 'content-type': 'application/json' },
  });
});

it('gets one delivery with its request body as received', async () => {
  const one = await get('/deliveries/d-1');
  expect(one.statusCode).toBe(200);
  const delivery = JSON.parse(one.body!);
  expect(delivery).toMatchObject({ deliveryId: 'd-1', status: 'stored', eventCount: 2 });
  expect(delivery.body).toContain(bigNumberEvent); // the text as sent, big number and all
  const missing = await get('/deliveries/nope');
  expect(missing.statusCode).toBe(404);
  expect(JSON.parse(missing.body!)).toMatchObject({ error: 'not_found' });
});

it('accepts either rotation token and refuses anything else with 401', async () => {
  expect(
    (await get('/events', {}, { authorization: 'Bearer old-token-of-32-characters-or-more' }))
      .statusCode,
  ).toBe(200);
  expect((await get('/events', {}, { authorization: `bearer ${TOKEN}` })).statusCode).toBe(200);
  const attempts: Array<Record<string, string>> = [
    {},
    { authorization: TOKEN },
    { authorization: 'Bearer wrong' },
    { authorization: `Bearer ${TOKEN}x` },
  ];
  for (const headers of attempts) {
    const response = await get('/events', {}, headers);
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body!).error).toBe('unauthorized');
  }
});

it('is off on a deployed stage with no token, and open on the local stage under serverless offline', async () => {
  const off = createReadApiHandler({
    config: loadConfig({ STAGE: 'production', EVENTS_TABLE: tableName }),
  });
  const response = await off(v2Event({ method: 'GET', path: '/events' }));
  expect(response.statusCode).toBe(403);
  expect(JSON.parse(response.body!).error).toBe('read_api_disabled');
  const local = createReadApiHandler({
    config: loadConfig({ ...OFFLINE, EVENTS_TABLE: tableName }),
    queries: new EventQueries(db.client, tableName),
  });
  expect((await local(v2Event({ method: 'GET', path: '/events' }))).statusCode).toBe(200);
});

it.each([
  ['/events', { color: 'red' }, 'unknown_parameter'],
  ['/deliveries', { type: 'x' }, 'unknown_parameter'],
  ['/events/big-1', { limit: '1' }, 'unknown_parameter'],
  ['/events', { since: 'last tuesday' }, 'invalid_parameter'],
  ['/events', { until: '2026-02-30T00:00:00Z' }, 'invalid_parameter'],
  ['/events', { since: '2026-11-02', until: '2026-11-01' }, 'invalid_parameter'],
  ['/events', { limit: '0' }, 'invalid_parameter'],
  ['/events', { limit: '5000' }, 'invalid_parameter'],
  ['/events', { type: '' }, 'invalid_parameter'],
  ['/events', { cursor: 'not-a-cursor' }, 'invalid_cursor'],
  ['/deliveries', { cursor: 'eyJxIjoiYWxsIn0.AAAA' }, 'invalid_cursor'],
])('GET %s %j → 400 %s', async (path, query, code) => {
  const response = await get(path, query);
  expect(response.statusCode).toBe(400);
  const body = JSON.parse(response.body!);
  expect(body.error).toBe(code);
  expect(body.message).toEqual(expect.any(String));
});

it('refuses a cursor forged with the table name as key with 400, not 500', async () => {
  const { nextCursor } = JSON.parse((await get('/events', { limit: '1' })).body!);
  const scope = JSON.parse(Buffer.from(nextCursor.split('.')[0], 'base64url').toString()).q;
  const forge = (k: Record<string, string>) => {
    const payload = Buffer.from(JSON.stringify({ q: scope, k })).toString('base64url');
    const signature = createHmac('sha256', `okta-events-cursor:${tableName}`)
      .update(payload)
      .digest()
      .subarray(0, 16);
    return `${payload}.${signature.toString('base64url')}`;
  };
  const lines: string[] = [];
  jest.spyOn(console, 'error').mockImplementation((line: string) => lines.push(line));
  const keys: Array<Record<string, string>> = [
    {},
    { pk: 'EVENT#e-2', sk: 'EVENT', itemType: 'event', timeKey: 'zzz' },
  ];
  for (const k of keys) {
    const response = await get('/events', { cursor: forge(k) });
    expect({ k, status: response.statusCode }).toEqual({ k, status: 400 });
    expect(JSON.parse(response.body!).error).toBe('invalid_cursor');
  }
  expect(lines.join('\n')).not.toContain('"status":500');
});

it('refuses a uuid that is not valid percent-encoding with 400', async () => {
  const response = await get('/events/%E0%A4%A');
  expect(response.statusCode).toBe(400);
  expect(JSON.parse(response.body!).error).toBe('invalid_parameter');
});

it('answers 404 for paths it does not serve', async () => {
  const response = await get('/events/a/b');
  expect(response.statusCode).toBe(404);
});

it('sets expiresAt from RETENTION_DAYS, counted from receipt; 0 keeps events forever', async () => {
  const item = await new EventStore(db.client, tableName).getEvent('big-1');
  expect(item!.expiresAt).toEqual({
    N: String(Date.parse('2026-11-02T00:00:00.000Z') / 1000 + 90 * 86400),
  });

  const forever = await db.newTable();
  const event = logEvent();
  await receiveAndStore(forever, { RETENTION_DAYS: '0' }, JSON.stringify(delivery([event])));
  const kept = await new EventStore(db.client, forever).getEvent(event.uuid as string);
  expect(kept).toBeDefined();
  expect(kept!.expiresAt).toBeUndefined();
});

describe('parameters are echoed short and escaped, in bodies and in the log', () => {
  it('echoes at most an excerpt of a 6,000-digit limit', async () => {
    const response = await get('/events', { limit: '9'.repeat(6000) });
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body!);
    expect(body.error).toBe('invalid_parameter');
    expect(body.message).toMatch(/^limit must be a whole number from 1 to 1000, got "9{20,}…"$/);
    expect(response.body!.length).toBeLessThan(300);
  });

  it('keeps a request to one pretty log line: a newline or ESC in a parameter or the path forges none', async () => {
    const pretty = createReadApiHandler({
      config: loadConfig({ ...OFFLINE, EVENTS_TABLE: tableName, LOG_FORMAT: 'pretty' }),
      queries: new EventQueries(db.client, tableName),
    });
    const lines: string[] = [];
    jest.spyOn(console, 'error').mockImplementation((line: string) => lines.push(line));
    const forged = '1\n21:40:00 POST /okta-webhooks-endpoint 204 stored=1 duplicates=0 3ms';
    for (const query of [{ limit: forged }, { since: '2026\u001b[2J\u009b2K' }]) {
      const request = v2Event({ method: 'GET', path: '/events' });
      request.queryStringParameters = query;
      expect((await pretty(request)).statusCode).toBe(400);
    }
    expect(
      (await pretty(v2Event({ method: 'GET', path: '/nope\n\u001b[31mred' }))).statusCode,
    ).toBe(404);
    expect(lines).toHaveLength(3);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(lines[0]).toContain('got "1\\u000a21:40:00 POST');
    expect(lines[1]).toContain('got "2026\\u001b[2J\\u009b2K"');
    expect(lines[2]).toContain('/nope\\u000a\\u001b[31mred');
  });
});

describe('between events and deliveries', () => {
  const SECRET = 'Basic cmVhZDpzZWNyZXQ=';
  const oktaHeaders = {
    authorization: SECRET,
    'user-agent': 'Okta Integrations',
    'x-okta-request-id': 'req-1',
  };
  const x = logEvent({ uuid: 'x-1', published: '2026-11-01T09:00:00.000Z' });
  const y = logEvent({ uuid: 'y-1', published: '2026-11-01T09:01:00.000Z' });
  const z = logEvent({ uuid: 'z-1', published: '2026-11-01T09:02:00.000Z' });
  // x arrives again in d-b, a delivery of its own (not a retry of d-a).
  const first = JSON.stringify(delivery([x, y], { eventId: 'd-a' }));
  const again = JSON.stringify(delivery([z, x], { eventId: 'd-b' }), null, 2); // as sent, indented
  let table: string;
  let routes: ReturnType<typeof createReadApiHandler>;

  function call(path: string, query: Record<string, string> = {}) {
    const event: APIGatewayProxyEventV2 = v2Event({
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    event.queryStringParameters = query;
    return routes(event);
  }

  beforeAll(async () => {
    table = await db.newTable();
    const env = { OKTA_AUTH_SECRET: SECRET };
    await receiveAndStore(
      table,
      env,
      first,
      () => new Date('2026-11-02T00:00:00.000Z'),
      oktaHeaders,
    );
    await receiveAndStore(
      table,
      env,
      again,
      () => new Date('2026-11-02T00:05:00.000Z'),
      oktaHeaders,
    );
    routes = createReadApiHandler({
      config: loadConfig({ STAGE: 'staging', EVENTS_API_TOKEN: TOKEN, EVENTS_TABLE: table }),
      queries: new EventQueries(db.client, table),
    });
  });

  it('GET /events/{uuid}/deliveries lists the delivery that stored it, then each one that carried it again', async () => {
    const response = await call('/events/x-1/deliveries');
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body!);
    expect(body.uuid).toBe('x-1');
    expect(body.origin).toBe('hook');
    expect(
      body.deliveries.map((d: { deliveryId: string; first: boolean; receivedAt: string }) => [
        d.deliveryId,
        d.first,
        d.receivedAt,
      ]),
    ).toEqual([
      ['d-a', true, '2026-11-02T00:00:00.000Z'],
      ['d-b', false, '2026-11-02T00:05:00.000Z'],
    ]);
    for (const { record } of body.deliveries) {
      expect(record).toMatchObject({
        status: 'stored',
        attempts: 1,
        eventCount: 2,
        caller: 'okta',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Okta Integrations',
          'x-okta-request-id': 'req-1',
        },
      });
      expect(record.headers.authorization).toBeUndefined();
      expect(record.body).toBeUndefined(); // records, not bodies
      expect(typeof record.storeMs).toBe('number');
    }
    expect(response.body).not.toContain(SECRET);
    expect(body.deliveries[1].record).toMatchObject({ storedCount: 1, duplicateCount: 1 });

    const once = JSON.parse((await call('/events/z-1/deliveries')).body!);
    expect(once.deliveries.map((d: { deliveryId: string }) => d.deliveryId)).toEqual(['d-b']);
  });

  it('GET /events/{uuid}/deliveries: 404 for no such event, 400 for any parameter', async () => {
    const missing = await call('/events/nope/deliveries');
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body!).error).toBe('not_found');
    const extra = await call('/events/x-1/deliveries', { limit: '1' });
    expect(extra.statusCode).toBe(400);
    expect(JSON.parse(extra.body!).error).toBe('unknown_parameter');
  });

  it('GET /deliveries/{id}/events gives the events it carried, exactly as stored, in its order', async () => {
    const response = await call('/deliveries/d-b/events');
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body!);
    expect(body.deliveryId).toBe('d-b');
    expect(body.events).toEqual([z, x]);
    // The texts are the stored ones (compact), spliced in: the same as GET /events/{uuid}.
    expect(response.body).toContain((await call('/events/z-1')).body!);
    expect(body.meta).toEqual([
      { uuid: 'z-1', receivedAt: '2026-11-02T00:05:00.000Z', deliveryId: 'd-b', origin: 'hook' },
      { uuid: 'x-1', receivedAt: '2026-11-02T00:00:00.000Z', deliveryId: 'd-a', origin: 'hook' },
    ]);
    expect(body.notStored).toEqual([]);
    expect(body.nextCursor).toBeNull();
  });

  it('GET /deliveries/{id}/events pages by cursor, and refuses a cursor of another delivery', async () => {
    const page1 = JSON.parse((await call('/deliveries/d-b/events', { limit: '1' })).body!);
    expect(page1.events.map((e: { uuid: string }) => e.uuid)).toEqual(['z-1']);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = JSON.parse(
      (await call('/deliveries/d-b/events', { limit: '1', cursor: page1.nextCursor })).body!,
    );
    expect(page2.events.map((e: { uuid: string }) => e.uuid)).toEqual(['x-1']);
    expect(page2.nextCursor).toBeNull();

    const foreign = await call('/deliveries/d-a/events', { cursor: page1.nextCursor });
    expect(foreign.statusCode).toBe(400);
    expect(JSON.parse(foreign.body!).error).toBe('invalid_cursor');
    const missing = await call('/deliveries/nope/events');
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body!).error).toBe('not_found');
    const bad = await call('/deliveries/d-b/events', { since: '2026-11-01' });
    expect(JSON.parse(bad.body!).error).toBe('unknown_parameter');
  });

  it('GET /deliveries/{id}/events lists as not stored what a delivery not yet stored carries', async () => {
    // Received (durable) but its events not written: no stream runs for this one.
    const w = logEvent({ uuid: 'w-1' });
    const waiting = JSON.stringify(delivery([w, x], { eventId: 'd-c' }));
    const receive = createDeliveryHandler({
      config: loadConfig({ ...OFFLINE, EVENTS_TABLE: table, REQUEST_BUDGET_MS: '60000' }),
      deliveries: new DeliveryStore(db.client, table),
    });
    const posted = await receive(
      v2Event({ body: waiting, headers: { 'content-type': 'application/json' } }),
    );
    expect(posted.statusCode).toBe(204);
    const body = JSON.parse((await call('/deliveries/d-c/events')).body!);
    expect(body.events.map((e: { uuid: string }) => e.uuid)).toEqual(['x-1']);
    expect(body.notStored).toEqual(['w-1']);
    const record = JSON.parse((await call('/deliveries/d-c')).body!);
    expect(record.status).toBe('received');
    expect(record.body).toBe(waiting);
  });
});
