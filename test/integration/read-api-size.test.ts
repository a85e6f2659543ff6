/**
 * Read API responses stay inside Lambda's 6 MB response limit, counted as Lambda counts it: the
 * handler's result serialised as JSON, where the body is a string, so each quote of an event
 * costs two bytes and each non-ASCII character its UTF-8 bytes. Past the limit Lambda fails the
 * invocation and the caller gets a 5xx with nothing to act on.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadConfig } from '../../lib/config';
import { createReadApiHandler } from '../../lib/read-api/read-api';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { eventJson } from '../../lib/store/event-items';
import { EventQueries } from '../../lib/store/event-queries';
import { EventStore } from '../../lib/store/event-store';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery, logEvent } from '../helpers/okta';
import { startTestStreams } from '../helpers/streams';

const TOKEN = 'size-token-of-32-characters-at-least';
/** Lambda's synchronous response payload limit. */
const LAMBDA_LIMIT = 6 * 1024 * 1024;
let db: TestDynamoDb;

/** What Lambda counts: the handler's result as JSON, in UTF-8 bytes. */
const payloadBytes = (response: unknown) => Buffer.byteLength(JSON.stringify(response));

beforeAll(async () => {
  db = await startTestDynamoDb();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await db?.stop();
});

async function tableWithHandler() {
  const tableName = await db.newTable();
  const handler = createReadApiHandler({
    config: loadConfig({ STAGE: 'staging', EVENTS_API_TOKEN: TOKEN, EVENTS_TABLE: tableName }),
    queries: new EventQueries(db.client, tableName),
  });
  const get = (path: string, query: Record<string, string> = {}, headers = {}) => {
    const event: APIGatewayProxyEventV2 = v2Event({
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    });
    event.queryStringParameters = query;
    return handler(event);
  };
  return { tableName, get };
}

/** Each event received in a delivery of its own, as Okta posts it, and stored from the stream. */
async function storeEvents(tableName: string, events: Array<Record<string, unknown>>) {
  const config = loadConfig({
    IS_OFFLINE: 'true', // the local stage is open only under serverless offline
    EVENTS_TABLE: tableName,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    REQUEST_BUDGET_MS: '60000',
  });
  const streams = await startTestStreams(db, tableName, { config });
  try {
    const receive = createDeliveryHandler({
      config,
      deliveries: new DeliveryStore(db.client, tableName),
    });
    for (const event of events) {
      const response = await receive(
        v2Event({
          body: JSON.stringify(delivery([event])),
          headers: { 'content-type': 'application/json' },
        }),
      );
      expect(response.statusCode).toBe(204);
    }
    await streams.idle();
  } finally {
    await streams.stop();
  }
}

/** An event of about `chars` characters of JSON made mostly of quotes, so it grows by 2/3 as sent. */
function quoteHeavyEvent(chars: number, published: string): Record<string, unknown> {
  return logEvent({
    published,
    debugContext: { debugData: { empty: Array(Math.round(chars / 3)).fill('') } },
  });
}

it('bounds a page of events by its bytes as sent, not by its length as a string', async () => {
  const { tableName, get } = await tableWithHandler();
  const events = Array.from({ length: 5 }, (_, i) =>
    quoteHeavyEvent(1_200_000, `2026-11-01T10:0${i}:00.000Z`),
  );
  await storeEvents(tableName, events);
  const uuids = events.map((e) => e.uuid as string).reverse();
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const response = await get('/events', cursor ? { limit: '10', cursor } : { limit: '10' });
    expect(response.statusCode).toBe(200);
    expect(payloadBytes(response)).toBeLessThanOrEqual(LAMBDA_LIMIT);
    expect(response.headers?.['content-encoding']).toBeUndefined();
    const body = JSON.parse(response.body!);
    seen.push(...body.events.map((e: { uuid: string }) => e.uuid));
    cursor = body.nextCursor ?? undefined;
  } while (cursor);
  expect(seen).toEqual(uuids);
});

it('bounds a page of deliveries by its bytes as sent, whatever fields the records carry', async () => {
  const { tableName, get } = await tableWithHandler();
  // Records listing 300 event types of control characters: 1 byte each as stored, 7 as sent
  // (\u0001 in the body, whose backslash is escaped again in Lambda's payload). 14 such records
  // are about 1 MB stored (one DynamoDB Local page) and over 6 MB as sent.
  const deliveries = new DeliveryStore(db.client, tableName);
  for (let d = 0; d < 14; d++) {
    await deliveries.record({
      deliveryId: randomUUID(),
      eventId: undefined,
      receivedAt: new Date(Date.UTC(2026, 10, 1, 0, d)).toISOString(),
      body: Buffer.from('{}'),
      headers: {},
      eventCount: 300,
      eventTypes: Array.from({ length: 300 }, (_, i) => `${d}.${i}.`.padEnd(250, '\u0001')),
      source: undefined,
      eventTime: undefined,
      caller: 'okta',
      sourceIp: undefined,
      requestId: `size-${d}`,
      expiresAt: undefined,
    });
  }
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await get('/deliveries', cursor ? { limit: '14', cursor } : { limit: '14' });
    expect(response.statusCode).toBe(200);
    expect(payloadBytes(response)).toBeLessThanOrEqual(LAMBDA_LIMIT);
    const body = JSON.parse(response.body!);
    seen.push(...body.deliveries.map((r: { deliveryId: string }) => r.deliveryId));
    cursor = body.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  expect(new Set(seen).size).toBe(14);
  expect(pages).toBeGreaterThan(1);
});

describe('an event too large for one response as JSON text', () => {
  let get: Awaited<ReturnType<typeof tableWithHandler>>['get'];
  let stored: string;
  let uuid: string;

  beforeAll(async () => {
    const table = await tableWithHandler();
    get = table.get;
    const event = quoteHeavyEvent(5_600_000, '2026-11-01T10:00:00.000Z');
    uuid = event.uuid as string;
    await storeEvents(table.tableName, [event]);
    stored = eventJson((await new EventStore(db.client, table.tableName).getEvent(uuid))!);
    expect(payloadBytes(stored)).toBeGreaterThan(LAMBDA_LIMIT);
  });

  it('is sent gzipped to a caller that accepts gzip, alone or in a listing', async () => {
    for (const path of [`/events/${uuid}`, '/events']) {
      const response = await get(path, {}, { 'accept-encoding': 'gzip, deflate, br' });
      expect(response.statusCode).toBe(200);
      expect(payloadBytes(response)).toBeLessThanOrEqual(LAMBDA_LIMIT);
      expect(response.isBase64Encoded).toBe(true);
      expect(response.headers).toMatchObject({
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      const text = gunzipSync(Buffer.from(response.body!, 'base64')).toString('utf8');
      if (path === '/events') {
        expect(text.startsWith(`{"events":[${stored}],`)).toBe(true);
        expect(JSON.parse(text).nextCursor).toBeNull();
      } else {
        expect(text).toBe(stored);
      }
    }
  });

  it('is refused with a clear 406 to a caller that does not accept gzip', async () => {
    for (const headers of [
      {},
      { 'accept-encoding': 'identity' },
      { 'accept-encoding': 'gzip;q=0' },
    ]) {
      const response = await get(`/events/${uuid}`, {}, headers);
      expect(response.statusCode).toBe(406);
      const body = JSON.parse(response.body!);
      expect(body.error).toBe('response_too_large');
      expect(body.message).toMatch(/Accept-Encoding: gzip/);
    }
  });
});
