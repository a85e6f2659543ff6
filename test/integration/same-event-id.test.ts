/**
 * Two different bodies under one envelope eventId (issue 18, item 1): the receiver in-process
 * against DynamoDB Local, the real stream runner running the store function. Large bodies go into
 * part items; neither body's parts may overwrite the other's, and both deliveries' events are
 * stored.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { runEventsCli } from '../../lib/cli/events-cli';
import { loadConfig } from '../../lib/config';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { eventJson } from '../../lib/store/event-items';
import { EventQueries } from '../../lib/store/event-queries';
import { EventStore } from '../../lib/store/event-store';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery, logEvent } from '../helpers/okta';
import { type TestStreams, startTestStreams } from '../helpers/streams';

const SECRET = 'Basic YWRtaW46c3VwZXJzZWNyZXQ=';
let db: TestDynamoDb;
let running: TestStreams[] = [];

beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
  jest.restoreAllMocks();
});

async function setup() {
  const tableName = await db.newTable();
  const config = loadConfig({
    OKTA_AUTH_SECRET: SECRET,
    EVENTS_TABLE: tableName,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    REQUEST_BUDGET_MS: '60000', // not what this file is about: a busy machine must not fail it
  });
  const receive = createDeliveryHandler({
    config,
    deliveries: new DeliveryStore(db.client, tableName),
  });
  const streams = await startTestStreams(db, tableName, { config });
  running.push(streams);
  return {
    tableName,
    receive,
    streams,
    events: new EventStore(db.client, tableName),
    queries: new EventQueries(db.client, tableName),
  };
}

function post(text: string) {
  return v2Event({
    body: text,
    headers: { 'content-type': 'application/json', authorization: SECRET },
  });
}

/** `n` events of 100 KB random base64 each: about 75 KB of gzip apiece, so the body is in parts. */
function largeEvents(n: number) {
  return Array.from({ length: n }, () =>
    logEvent({ debugContext: { debugData: { blob: randomBytes(75_000).toString('base64') } } }),
  );
}

describe('the same eventId with two different large bodies, 50 ms apart', () => {
  it.each([
    ['as many parts', 20, 20],
    ['fewer parts', 20, 8],
  ])(
    'the second with %s: both answered 204, both bodies kept apart, every event of both stored',
    async (_name, firstCount, secondCount) => {
      const { receive, streams, events, queries, tableName } = await setup();
      const first = largeEvents(firstCount);
      const second = largeEvents(secondCount);
      const firstText = JSON.stringify(delivery(first, { eventId: 'reused-large' }));
      const secondText = JSON.stringify(delivery(second, { eventId: 'reused-large' }));
      const answers = await Promise.all([
        receive(post(firstText)),
        sleep(50).then(() => receive(post(secondText))),
      ]);
      expect(answers.map((a) => a.statusCode)).toEqual([204, 204]);
      await streams.idle();
      expect(streams.failures).toEqual([]);

      for (const event of [...first, ...second]) {
        const item = await events.getEvent(event.uuid as string);
        expect(item && JSON.parse(eventJson(item))).toEqual(event);
      }
      const heads = (await allItems(db.client, tableName)).filter(
        (i) => i.itemType?.S === 'delivery',
      );
      expect(heads).toHaveLength(2);
      // Each delivery shows the body it stored, and its own events counted.
      const byBody = new Map<string, string>();
      for (const head of heads) {
        const found = (await queries.getDelivery(head.deliveryId!.S!))!;
        expect(found.status).toBe('stored');
        expect(found.eventId).toBe('reused-large');
        byBody.set(found.body, found.deliveryId);
        expect(found.storedCount).toBe(found.body === firstText ? firstCount : secondCount);
      }
      expect([...byBody.keys()].sort()).toEqual([firstText, secondText].sort());
      // Whichever came first holds the eventId; the other names it, and it names the other.
      const original = (await queries.getDelivery('reused-large'))!;
      const other = byBody.get(original.body === firstText ? secondText : firstText)!;
      expect(other).toMatch(/^reused-large~[0-9a-f]{16}$/);
      expect(original.otherBodies).toEqual([other]);
      expect((await queries.getDelivery(other))!.sameEventIdAs).toBe('reused-large');
    },
  );
});

it('refuses to store a body that is not the one received (its hash differs), naming the delivery', async () => {
  const deliveries = new DeliveryStore(db.client, await db.newTable());
  const text = JSON.stringify(delivery(largeEvents(8), { eventId: 'tampered' }));
  await deliveries.record({
    deliveryId: 'tampered',
    eventId: 'tampered',
    receivedAt: new Date().toISOString(),
    body: Buffer.from(text),
    headers: {},
    eventCount: 8,
    eventTypes: [],
    source: undefined,
    eventTime: undefined,
    caller: 'test',
    sourceIp: undefined,
    requestId: 'r',
    expiresAt: undefined,
  });
  const head = (await deliveries.get('tampered'))!;
  expect((await deliveries.body(head)).toString()).toBe(text);
  const forged = { ...head, bodySha256: { S: '0'.repeat(64) } };
  await expect(deliveries.body(forged)).rejects.toThrow(
    'delivery tampered: its stored body does not match the bodySha256 received',
  );
});

describe('the same uuid with different text', () => {
  it('keeps the first text and records the conflict: a count and the uuids on the delivery, a log line, delivery <id>', async () => {
    const { receive, streams, events, queries, tableName } = await setup();
    const lines: string[] = [];
    const capture = (line: unknown) => void lines.push(String(line));
    jest.spyOn(console, 'log').mockImplementation(capture);
    jest.spyOn(console, 'error').mockImplementation(capture);
    const original = logEvent({ displayMessage: 'first text' });
    const changed = { ...original, displayMessage: 'other text' };
    // Same content, keys in another order: the same event, not a conflict.
    const reordered = Object.fromEntries(Object.entries(original).reverse());
    const inside = logEvent();
    const insideChanged = { ...inside, severity: 'WARN' };

    expect(
      (await receive(post(JSON.stringify(delivery([original], { eventId: 'a' }))))).statusCode,
    ).toBe(204);
    await streams.idle();
    const second = delivery([changed, reordered, inside, insideChanged], { eventId: 'b' });
    expect((await receive(post(JSON.stringify(second)))).statusCode).toBe(204);
    await streams.idle();
    expect(streams.failures).toEqual([]);

    // First wins.
    expect(JSON.parse(eventJson((await events.getEvent(original.uuid as string))!))).toEqual(
      original,
    );
    expect(JSON.parse(eventJson((await events.getEvent(inside.uuid as string))!))).toEqual(inside);
    const record = (await queries.getDelivery('b'))!;
    expect(record).toMatchObject({ storedCount: 1, duplicateCount: 3, conflictCount: 2 });
    expect([...record.conflictUuids!].sort()).toEqual([original.uuid, inside.uuid].sort());
    expect((await queries.getDelivery('a'))!.conflictCount).toBeUndefined();

    const conflictLines = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'store' && l.status === 'conflict');
    expect(conflictLines).toHaveLength(1);
    expect(conflictLines[0]).toMatchObject({ level: 'warn', deliveryId: 'b', events: 2 });

    const out: string[] = [];
    const code = await runEventsCli(
      ['delivery', 'b'],
      { DYNAMODB_ENDPOINT: db.local.endpoint, EVENTS_TABLE: tableName },
      { out: (l) => out.push(l), err: () => undefined },
    );
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(
      /^conflicts +2 with other text than the text stored first, which was kept: [0-9a-f-]{36}, [0-9a-f-]{36}$/m,
    );
  });
});
