/**
 * Finding stored events against a real DynamoDB Local: every access pattern, time-range edges,
 * pagination without gap or repeat, cursors that must not be forged, and the Query-not-Scan rule.
 */
import { createHmac } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CursorSigner } from '../../lib/store/cursor';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { RequestError } from '../../lib/errors';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { expiryFor } from '../../lib/store/event-items';
import { EventQueries } from '../../lib/store/event-queries';
import { parseLimit, parseTime } from '../../lib/store/query-parameters';
import { EventStore } from '../../lib/store/event-store';
import { parseDelivery } from '../../lib/okta/okta-contract';
import { storeReceivedDelivery } from '../../lib/stream/store-deliveries';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery, logEvent } from '../helpers/okta';

let db: TestDynamoDb;
let tableName: string;
let client: DynamoDBClient;
let queries: EventQueries;
const commands: string[] = [];

const jane = {
  id: '00ujane0000000000001',
  type: 'User',
  alternateId: 'jane.doe@example.com',
  displayName: 'Jane Doe',
};
const admin = {
  id: '00uadmin000000000001',
  type: 'User',
  alternateId: 'Admin@Example.com',
  displayName: 'Admin',
};
const app = {
  id: '0oaapp0000000000001',
  type: 'AppInstance',
  alternateId: 'Salesforce',
  displayName: 'Salesforce',
};

/** Events at known times: minute i of 2026-11-01, types alternating, users varying. */
const events = Array.from({ length: 23 }, (_, i) => {
  const minute = String(i).padStart(2, '0');
  return logEvent({
    uuid: `00000000-0000-0000-0000-0000000000${minute}`,
    published: `2026-11-01T10:${minute}:00.000Z`,
    eventType: i % 2 === 0 ? 'user.session.start' : 'user.lifecycle.create',
    actor: i === 7 ? jane : admin,
    target: i === 3 ? [jane, app] : [app],
  });
});

/** A delivery as the receiver writes it, then its events as the store function writes them. */
async function store(body: object, receivedAt: string) {
  const raw = Buffer.from(JSON.stringify(body));
  const parsed = parseDelivery(raw);
  const stores = {
    deliveries: new DeliveryStore(db.client, tableName),
    events: new EventStore(db.client, tableName),
  };
  await stores.deliveries.record({
    deliveryId: parsed.eventId!,
    eventId: parsed.eventId,
    receivedAt,
    body: raw,
    headers: { 'content-type': 'application/json' },
    eventCount: parsed.events.length,
    eventTypes: [...new Set(parsed.events.map((e) => e.event.eventType))],
    source: parsed.source,
    eventTime: parsed.eventTime,
    caller: 'okta',
    sourceIp: '127.0.0.1',
    requestId: 'test',
    expiresAt: expiryFor(new Date(receivedAt), 90),
  });
  const head = await stores.deliveries.get(parsed.eventId!);
  await storeReceivedDelivery(head!, stores, { logFormat: 'json', stage: 'local', quiet: true });
}

beforeAll(async () => {
  db = await startTestDynamoDb();
  tableName = await db.newTable();
  // Three deliveries, received at known times.
  await store(delivery(events.slice(0, 10), { eventId: 'delivery-a' }), '2026-11-02T00:00:00.000Z');
  await store(
    delivery(events.slice(10, 20), { eventId: 'delivery-b' }),
    '2026-11-02T00:01:00.000Z',
  );
  await store(delivery(events.slice(20), { eventId: 'delivery-c' }), '2026-11-02T00:02:00.000Z');

  client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.local.endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  queries = new EventQueries(client, tableName);
});

afterAll(async () => {
  // Every listing above was a Query followed by item reads: never a Scan.
  expect(commands.length).toBeGreaterThan(10);
  expect(new Set(commands)).toEqual(
    new Set(['QueryCommand', 'BatchGetItemCommand', 'GetItemCommand']),
  );
  client?.destroy();
  await db?.stop();
});

const uuids = (page: { items: string[] }) =>
  page.items.map((json) => (JSON.parse(json) as { uuid: string }).uuid);
const uuidOf = (i: number) => events[i]!.uuid as string;

it('gets one event by uuid, exactly as stored', async () => {
  expect(JSON.parse((await queries.getEventJson(uuidOf(5)))!)).toEqual(events[5]);
  expect(await queries.getEventJson('no-such-event')).toBeUndefined();
});

it('lists all events newest first', async () => {
  const page = await queries.listEvents({ limit: 100 });
  expect(uuids(page)).toEqual(events.map((e) => e.uuid).reverse());
  expect(page.nextCursor).toBeNull();
});

it('lists events of one type in a time range: since inclusive, until exclusive', async () => {
  const page = await queries.listEvents({
    type: 'user.session.start',
    since: parseTime('2026-11-01T10:04:00Z', 'since'),
    until: parseTime('2026-11-01T10:10:00Z', 'until'),
  });
  expect(uuids(page)).toEqual([uuidOf(8), uuidOf(6), uuidOf(4)]);
});

it('lists a type with only since, or only until', async () => {
  expect(
    uuids(
      await queries.listEvents({
        type: 'user.lifecycle.create',
        since: '2026-11-01T10:19:00.000Z',
      }),
    ),
  ).toEqual([uuidOf(21), uuidOf(19)]);
  expect(
    uuids(
      await queries.listEvents({
        type: 'user.lifecycle.create',
        until: '2026-11-01T10:03:00.000Z',
      }),
    ),
  ).toEqual([uuidOf(1)]);
});

it('finds the events about a user as actor or target, by id or by login in any case', async () => {
  const expected = [uuidOf(7), uuidOf(3)]; // actor of 7, target of 3
  expect(uuids(await queries.listEvents({ user: jane.id }))).toEqual(expected);
  expect(uuids(await queries.listEvents({ user: 'JANE.DOE@example.com' }))).toEqual(expected);
  expect(
    uuids(
      await queries.listEvents({ user: 'jane.doe@example.com', type: 'user.lifecycle.create' }),
    ),
  ).toEqual([uuidOf(7), uuidOf(3)]);
  expect(
    uuids(
      await queries.listEvents({ user: 'jane.doe@example.com', until: '2026-11-01T10:05:00.000Z' }),
    ),
  ).toEqual([uuidOf(3)]);
  // Targets that are not users (the app) are not indexed as users.
  expect(uuids(await queries.listEvents({ user: app.id }))).toEqual([]);
});

it('pages through a listing with no gap and no repeat', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await queries.listEvents({ limit: 5, cursor });
    seen.push(...uuids(page));
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  expect(pages).toBeGreaterThanOrEqual(5);
  expect(seen).toEqual(events.map((e) => e.uuid).reverse());
});

it('pages through a user listing on the table key too', async () => {
  const first = await queries.listEvents({ user: admin.alternateId, limit: 10 });
  const second = await queries.listEvents({
    user: admin.alternateId,
    limit: 10,
    cursor: first.nextCursor!,
  });
  const third = await queries.listEvents({
    user: admin.alternateId,
    limit: 10,
    cursor: second.nextCursor!,
  });
  const all = [...uuids(first), ...uuids(second), ...uuids(third)];
  expect(new Set(all).size).toBe(all.length);
  expect(all).toHaveLength(22); // every event but 7, whose actor is Jane
});

it('lists deliveries newest first, in a time range', async () => {
  const all = await queries.listDeliveries({});
  expect(all.items.map((d) => d.deliveryId)).toEqual(['delivery-c', 'delivery-b', 'delivery-a']);
  expect(all.items[2]).toMatchObject({
    firstReceivedAt: '2026-11-02T00:00:00.000Z',
    eventCount: 10,
    storedCount: 10,
    duplicateCount: 0,
    attempts: 1,
    status: 'stored',
    caller: 'okta',
    headers: { 'content-type': 'application/json' },
    eventTypes: ['user.session.start', 'user.lifecycle.create'],
  });
  const one = (await queries.getDelivery('delivery-a'))!;
  expect(JSON.parse(one.body).data.events).toEqual(events.slice(0, 10));
  const ranged = await queries.listDeliveries({
    since: '2026-11-02T00:00:30.000Z',
    until: '2026-11-02T00:01:30.000Z',
  });
  expect(ranged.items.map((d) => d.deliveryId)).toEqual(['delivery-b']);
});

async function refusal(promise: Promise<unknown>): Promise<RequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('cursors', () => {
  it('refuses a tampered cursor with 400', async () => {
    const { nextCursor } = await queries.listEvents({ limit: 2 });
    const [payload, sig] = nextCursor!.split('.');
    const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    decoded.k.timeKey = '2099-01-01T00:00:00.000Z#x';
    const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${sig}`;
    for (const cursor of [forged, 'garbage', `${nextCursor}x`, '.', `${payload}.`]) {
      const error = await refusal(queries.listEvents({ limit: 2, cursor }));
      expect(error).toMatchObject({ statusCode: 400, code: 'invalid_cursor' });
    }
  });

  it('refuses a cursor from another listing with 400', async () => {
    const { nextCursor } = await queries.listEvents({ type: 'user.session.start', limit: 2 });
    const error = await refusal(
      queries.listEvents({ type: 'user.lifecycle.create', limit: 2, cursor: nextCursor! }),
    );
    expect(error.code).toBe('invalid_cursor');
    const ranged = await refusal(
      queries.listEvents({
        type: 'user.session.start',
        since: '2026-01-01T00:00:00.000Z',
        limit: 2,
        cursor: nextCursor!,
      }),
    );
    expect(ranged.code).toBe('invalid_cursor');
  });
});

describe('cursors signed per stage', () => {
  const scopeOf = (cursor: string) =>
    JSON.parse(Buffer.from(cursor.split('.')[0]!, 'base64url').toString()).q as string;

  it('refuses a cursor signed with the public table-name key, or under another stage token', async () => {
    const reader = new EventQueries(client, tableName, { cursorSecrets: ['stage-token'] });
    const { nextCursor } = await reader.listEvents({ limit: 2 });
    const [payload] = nextCursor!.split('.');
    const publicSignature = createHmac('sha256', `okta-events-cursor:${tableName}`)
      .update(payload!)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
    const otherStage = new EventQueries(client, tableName, { cursorSecrets: ['other-token'] });
    const fromOtherStage = (await otherStage.listEvents({ limit: 2 })).nextCursor!;
    for (const cursor of [`${payload}.${publicSignature}`, fromOtherStage]) {
      const error = await refusal(reader.listEvents({ limit: 2, cursor }));
      expect(error).toMatchObject({ statusCode: 400, code: 'invalid_cursor' });
    }
    expect(uuids(await reader.listEvents({ limit: 2, cursor: nextCursor! }))).toEqual([
      uuidOf(20),
      uuidOf(19),
    ]);
  });

  it('keeps cursors through a token rotation, and refuses them once their token is gone', async () => {
    const before = new EventQueries(client, tableName, { cursorSecrets: ['old'] });
    const { nextCursor } = await before.listEvents({ limit: 2 });
    const during = new EventQueries(client, tableName, { cursorSecrets: ['new', 'old'] });
    expect((await during.listEvents({ limit: 2, cursor: nextCursor! })).items).toHaveLength(2);
    const after = new EventQueries(client, tableName, { cursorSecrets: ['new'] });
    const error = await refusal(after.listEvents({ limit: 2, cursor: nextCursor! }));
    expect(error.code).toBe('invalid_cursor');
  });

  it('refuses a well-signed cursor whose start key does not fit the query, with 400', async () => {
    const reader = new EventQueries(client, tableName, { cursorSecrets: ['stage-token'] });
    const signer = new CursorSigner(tableName, ['stage-token']);
    const S = (value: string) => ({ S: value });
    for (const [listing, query] of [
      ['all', {}],
      ['type', { type: 'user.session.start' }],
      ['user', { user: admin.alternateId }],
    ] as const) {
      const { nextCursor } = await reader.listEvents({ ...query, limit: 2 });
      const scope = scopeOf(nextCursor!);
      const bad: Array<Record<string, { S: string }>> = [
        {},
        { pk: S('EVENT#x') },
        { pk: S('EVENT#x'), sk: S('EVENT'), itemType: S('delivery'), timeKey: S('x') },
        { pk: S('EVENT#x'), sk: S('EVENT'), eventType: S('other'), timeKey: S('x') },
        { pk: S('USER#someone-else'), sk: S('2026-11-01T10:00:00.000Z#x') },
        { pk: S('EVENT#x'), sk: S('EVENT'), itemType: S('event'), timeKey: S('x'), more: S('y') },
      ];
      for (const key of bad) {
        const error = await refusal(
          reader.listEvents({ ...query, limit: 2, cursor: signer.encode(key, scope) }),
        );
        expect({ listing, key, error }).toMatchObject({
          listing,
          key,
          error: { statusCode: 400, code: 'invalid_cursor' },
        });
      }
    }
    // Shaped right, but outside the listing's time bounds: DynamoDB itself refuses it.
    const bounded = { type: 'user.session.start', since: '2026-11-01T10:04:00.000Z', limit: 2 };
    const scope = scopeOf((await reader.listEvents(bounded)).nextCursor!);
    const outside = signer.encode(
      {
        pk: S(`EVENT#${uuidOf(0)}`),
        sk: S('EVENT'),
        eventType: S('user.session.start'),
        timeKey: S(`2026-11-01T10:00:00.000Z#${uuidOf(0)}`),
      },
      scope,
    );
    const error = await refusal(reader.listEvents({ ...bounded, cursor: outside }));
    expect(error).toMatchObject({ statusCode: 400, code: 'invalid_cursor' });
  });
});

describe('parameters', () => {
  it.each(['yesterday', '2026-13-01', '2026-11-01T25:00:00Z', '1700000000', ''])(
    'refuses the time %j',
    (value) => {
      expect(() => parseTime(value, 'since')).toThrow(
        expect.objectContaining({ statusCode: 400, code: 'invalid_parameter' }),
      );
    },
  );

  it.each(['2026-11-01T08:00:00', '2026-11-01T08:00', '2026-11-01 08:00:00.5'])(
    'refuses the time %j: a time of day without a zone would be read in the local zone',
    (value) => {
      expect(() => parseTime(value, 'since')).toThrow(
        expect.objectContaining({
          statusCode: 400,
          code: 'invalid_parameter',
          message: expect.stringContaining('add Z for UTC or an offset such as +02:00'),
        }),
      );
    },
  );

  it('accepts dates, times with zones, and fractional seconds', () => {
    expect(parseTime('2026-11-01', 'since')).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTime('2026-11-01T08:00:00+02:00', 'since')).toBe('2026-11-01T06:00:00.000Z');
    expect(parseTime('2026-11-01T08:00:00.5Z', 'since')).toBe('2026-11-01T08:00:00.500Z');
    expect(parseTime('2026-11-01 08:00-0130', 'since')).toBe('2026-11-01T09:30:00.000Z');
  });

  it.each(['0', '1001', '-1', '2.5', 'ten'])('refuses the limit %j', (value) => {
    expect(() => parseLimit(value)).toThrow(/limit must be a whole number from 1 to 1000/);
  });

  it('refuses a range whose since is not before until', async () => {
    await expect(
      queries.listEvents({ since: '2026-11-02T00:00:00.000Z', until: '2026-11-01T00:00:00.000Z' }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
  });
});
