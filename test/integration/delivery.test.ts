/**
 * The delivery handler in-process against a real DynamoDB Local: storage, idempotency,
 * losslessness, refusals that store nothing, and what an operator can account for.
 */
import { randomBytes } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { hookdeckSignature } from '../../lib/http/auth';
import { loadConfig } from '../../lib/config';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { deliveryKey } from '../../lib/store/delivery-items';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { eventJson } from '../../lib/store/event-items';
import { EventQueries } from '../../lib/store/event-queries';
import { EventStore } from '../../lib/store/event-store';
import { v1Event, v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';
import { startFakeSsm } from '../helpers/fake-ssm';
import { type TestStreams, startTestStreams } from '../helpers/streams';
import {
  SAMPLE_EVENT_UUID,
  delivery,
  logEvent,
  sampleDelivery,
  sampleDeliveryText,
} from '../helpers/okta';

const SECRET = 'Basic YWRtaW46c3VwZXJzZWNyZXQ=';
const SIGNING = 'whsec_test';
let db: TestDynamoDb;

beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db?.stop();
});

let lines: string[];
let running: TestStreams[] = [];
beforeEach(() => {
  lines = [];
  const capture = (line: unknown) => void lines.push(String(line));
  jest.spyOn(console, 'log').mockImplementation(capture);
  jest.spyOn(console, 'error').mockImplementation(capture);
});
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
  jest.restoreAllMocks();
});

/** Log lines of one kind: `request` (the receiver) or `store` (the stream function). */
function logged(msg: 'request' | 'store'): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
}

/**
 * A table, the receiver in-process, and the table's stream running the store function
 * in-process. `handler` answers as the receiver does, then waits until the stream has
 * handled what the request wrote, so a test can look at the stored events.
 */
async function setup(env: Record<string, string> = {}, now?: () => Date) {
  const tableName = await db.newTable();
  const config = loadConfig({
    OKTA_AUTH_SECRET: SECRET,
    HOOKDECK_SIGNING_SECRET: SIGNING,
    EVENTS_TABLE: tableName,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    // Not what these tests are about (storage-faults.test.ts is): a busy machine must not fail them.
    REQUEST_BUDGET_MS: '60000',
    ...env,
  });
  const store = new EventStore(db.client, tableName);
  const deliveries = new DeliveryStore(db.client, tableName);
  const receive = createDeliveryHandler({ config, deliveries, now });
  const streams = await startTestStreams(db, tableName, { config });
  running.push(streams);
  const handler = async (event: Parameters<typeof receive>[0]) => {
    const response = await receive(event);
    await streams.idle();
    return response;
  };
  return { tableName, config, store, handler, receive, streams };
}

function post(body: string | Buffer, headers: Record<string, string> = {}) {
  return v2Event({
    body,
    headers: { 'content-type': 'application/json', authorization: SECRET, ...headers },
  });
}

async function storedEvent(store: EventStore, uuid: string): Promise<unknown> {
  const item = await store.getEvent(uuid);
  return item && JSON.parse(eventJson(item));
}

describe('storing a delivery', () => {
  it('stores the Okta sample losslessly with search and delivery attributes, then answers 204', async () => {
    const { handler, store, tableName } = await setup();
    const response = await handler(post(sampleDeliveryText, { 'x-hookdeck-eventid': 'evt_123' }));
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');

    const item = (await store.getEvent(SAMPLE_EVENT_UUID))!;
    expect(JSON.parse(eventJson(item))).toEqual(sampleDelivery().data.events[0]);
    expect(item).toMatchObject({
      uuid: { S: SAMPLE_EVENT_UUID },
      eventType: { S: 'user.session.start' },
      published: { S: '2023-03-26T21:05:32.159Z' },
      actorId: { S: '00uz9fj5aT69fHVro1d6' },
      actorAlternateId: { S: 'admin@okta.com' },
      targetIds: { L: [{ S: 'lae42mkdc9i9cbw3U1d6' }, { S: '0oaz9fj21WKqTeaqs1d6' }] },
      deliveryId: { S: '85b60edb-4263-4e13-993b-818e26201052' },
      source: { S: 'https://{yourOktaDomain}/api/v1/eventHooks/who7hphp39JoHLni81d7' },
      eventTime: { S: '2023-03-28T17:03:37.093Z' },
      hookdeckEventId: { S: 'evt_123' },
    });
    expect(new Date(item.receivedAt!.S!).getTime()).toBeGreaterThan(Date.now() - 60_000);

    const { Item: record } = await db.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: deliveryKey('85b60edb-4263-4e13-993b-818e26201052'),
      }),
    );
    expect(record).toMatchObject({
      status: { S: 'stored' },
      eventCount: { N: '1' },
      storedCount: { N: '1' },
      duplicateCount: { N: '0' },
      attempts: { N: '1' },
      caller: { S: 'okta' },
      source: { S: 'https://{yourOktaDomain}/api/v1/eventHooks/who7hphp39JoHLni81d7' },
    });
    // The request as received: its body byte for byte, its headers but never the secret.
    const kept = (await new EventQueries(db.client, tableName).getDelivery(
      '85b60edb-4263-4e13-993b-818e26201052',
    ))!;
    expect(kept.body).toBe(sampleDeliveryText);
    expect(kept.headers).toEqual({
      'content-type': 'application/json',
      'x-hookdeck-eventid': 'evt_123',
    });
    expect(logged('request')[0]).toMatchObject({
      status: 204,
      events: 1,
      eventTypes: ['user.session.start'],
      caller: 'okta',
      deliveryId: '85b60edb-4263-4e13-993b-818e26201052',
      received: 'new',
    });
    expect(logged('store')[0]).toMatchObject({
      deliveryId: '85b60edb-4263-4e13-993b-818e26201052',
      status: 'stored',
      events: 1,
      stored: 1,
      duplicates: 0,
    });
  });

  it('accepts REST API (payload v1) events with the caller header casing', async () => {
    const { handler, store } = await setup();
    const event = logEvent();
    const response = await handler(
      v1Event({
        body: JSON.stringify(delivery([event])),
        headers: { 'Content-Type': 'application/json', Authorization: SECRET },
      }),
    );
    expect(response.statusCode).toBe(204);
    expect(await storedEvent(store, event.uuid as string)).toEqual(event);
  });

  it('stores base64-encoded bodies, checking the Hookdeck signature over the decoded bytes', async () => {
    const { handler, store } = await setup();
    const event = logEvent({ displayMessage: 'Zoë ✓ 日本' });
    const raw = Buffer.from(JSON.stringify(delivery([event])));
    const response = await handler(
      v2Event({
        body: raw,
        base64: true,
        headers: {
          'content-type': 'application/json',
          authorization: SECRET,
          'x-hookdeck-signature': hookdeckSignature(raw, SIGNING),
        },
      }),
    );
    expect(response.statusCode).toBe(204);
    expect(await storedEvent(store, event.uuid as string)).toEqual(event);
  });

  it('keeps the exact JSON text of each event: numbers beyond 2^53, duplicate keys, unknown fields', async () => {
    const { handler, store } = await setup();
    const eventText =
      '{"uuid":"lossless-1","eventType":"user.lifecycle.create","published":"2024-05-01T10:00:00.000Z",' +
      '"big":123456789012345678901234567890,"dup":"first","dup":"second","newOktaField":{"x":[1.0,2e5,null]}}';
    const body = `{"eventType":"com.okta.event_hook","eventId":"d-lossless","data":{"events":[${eventText}]}}`;
    expect((await handler(post(body))).statusCode).toBe(204);
    expect(eventJson((await store.getEvent('lossless-1'))!)).toBe(eventText);
  });

  it('stores an event of 450 KB compressed and reads it back unchanged', async () => {
    const { handler, store } = await setup();
    const event = logEvent({ debugContext: { debugData: { blob: 'okta '.repeat(90_000) } } });
    expect((await handler(post(JSON.stringify(delivery([event]))))).statusCode).toBe(204);
    const item = (await store.getEvent(event.uuid as string))!;
    expect(item.eventGzip?.B).toBeDefined();
    expect(JSON.parse(eventJson(item))).toEqual(event);
  });

  it('refuses with 413 an event that cannot fit in an item even compressed, storing nothing', async () => {
    const { handler, tableName } = await setup();
    const small = logEvent();
    const huge = logEvent({ debugContext: { blob: randomBytes(450_000).toString('base64') } });
    const response = await handler(post(JSON.stringify(delivery([small, huge]))));
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body!)).toMatchObject({ error: 'event_too_large' });
    expect(await allItems(db.client, tableName)).toEqual([]);
  });
});

describe('idempotency', () => {
  it('stores a redelivered event once and keeps its first-receipt metadata', async () => {
    const times = [new Date('2026-01-01T00:00:00.000Z'), new Date('2026-01-01T00:05:00.000Z')];
    const { tableName, store, handler } = await setup({}, () => times.shift()!);
    const event = logEvent();
    const first = delivery([event]);
    const second = delivery([event], { eventId: 'another-delivery' });

    expect((await handler(post(JSON.stringify(first)))).statusCode).toBe(204);
    expect((await handler(post(JSON.stringify(second)))).statusCode).toBe(204);

    const item = (await store.getEvent(event.uuid as string))!;
    expect(item.receivedAt).toEqual({ S: '2026-01-01T00:00:00.000Z' });
    expect(item.deliveryId).toEqual({ S: first.eventId });
    const events = (await allItems(db.client, tableName)).filter((i) => i.itemType?.S === 'event');
    expect(events).toHaveLength(1);
    expect(logged('store')[1]).toMatchObject({ stored: 0, duplicates: 1 });
    // The event lists the deliveries that carried it: the first on the item, later ones beside it.
    const carried = (await allItems(db.client, tableName)).filter(
      (i) => i.pk?.S === `EVENT#${event.uuid as string}` && i.sk?.S !== 'EVENT',
    );
    expect(carried.map((i) => i.sk!.S)).toEqual(['DELIVERY#another-delivery']);
  });

  it('stores an event repeated within one delivery once, the first occurrence winning', async () => {
    const { handler, store, tableName } = await setup();
    const a = logEvent({ displayMessage: 'first copy' });
    const b = logEvent();
    const body = delivery([a, b, { ...a, displayMessage: 'second copy' }, b]);
    expect((await handler(post(JSON.stringify(body)))).statusCode).toBe(204);
    expect(await storedEvent(store, a.uuid as string)).toEqual(a);
    expect(
      (await allItems(db.client, tableName)).filter((i) => i.itemType?.S === 'event'),
    ).toHaveLength(2);
    expect(logged('store')[0]).toMatchObject({ events: 4, stored: 2, duplicates: 2 });
  });

  it('counts a retried delivery on its one record and keeps its first counts', async () => {
    const { handler, tableName } = await setup();
    const body = JSON.stringify(
      delivery([logEvent(), logEvent()], { eventId: 'retried-delivery' }),
    );
    expect((await handler(post(body))).statusCode).toBe(204);
    expect((await handler(post(body))).statusCode).toBe(204);
    const deliveries = (await allItems(db.client, tableName)).filter(
      (i) => i.itemType?.S === 'delivery',
    );
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      attempts: { N: '2' },
      storedCount: { N: '2' },
      duplicateCount: { N: '0' },
    });
    expect(logged('request').map((l) => l.received)).toEqual(['new', 'again (attempt 2)']);
    expect(logged('store')).toHaveLength(1); // a repeat is not stored twice
    expect(deliveries[0]!.lastReceivedAt).toBeDefined();
  });

  it('keys a delivery without an eventId by a hash of its body, so its retries share a record', async () => {
    const { handler, tableName } = await setup();
    const body = JSON.stringify({
      eventType: 'com.okta.event_hook',
      data: { events: [logEvent()] },
    });
    await handler(post(body));
    await handler(post(body));
    const deliveries = (await allItems(db.client, tableName)).filter(
      (i) => i.itemType?.S === 'delivery',
    );
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.pk!.S).toMatch(/^DELIVERY#sha256:[0-9a-f]{64}$/);
  });
});

describe('refusals store nothing', () => {
  const valid = () => JSON.stringify(delivery([logEvent()]));
  it.each([
    [
      'no secret',
      () => v2Event({ body: valid(), headers: { 'content-type': 'application/json' } }),
      401,
      'unauthorized',
    ],
    ['wrong secret', () => post(valid(), { authorization: 'Basic d3Jvbmc=' }), 401, 'unauthorized'],
    [
      'bad Hookdeck signature',
      () => post(valid(), { 'x-hookdeck-signature': 'AAAA' }),
      401,
      'unauthorized',
    ],
    [
      'text/plain',
      () => post(valid(), { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    ],
    [
      'no content type',
      () => v2Event({ body: valid(), headers: { authorization: SECRET } }),
      415,
      'unsupported_media_type',
    ],
    ['malformed JSON', () => post('{"eventType":'), 400, 'malformed_json'],
    [
      'not a hook',
      () => post('{"eventType":"x","data":{"events":[{}]}}'),
      400,
      'not_an_event_hook',
    ],
  ])('%s is refused and stores nothing', async (_name, makeEvent, status, code) => {
    const { handler, tableName } = await setup();
    const response = await handler(makeEvent());
    expect(response.statusCode).toBe(status);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(response.body!)).toEqual(
      expect.objectContaining({ error: code, message: expect.any(String) }),
    );
    expect(response.body).not.toMatch(/at .*\.ts:\d+/);
    expect(await allItems(db.client, tableName)).toEqual([]);
  });

  it('refuses a body over MAX_BODY_BYTES with 413', async () => {
    const { handler, tableName } = await setup({ MAX_BODY_BYTES: '1000' });
    const response = await handler(post(JSON.stringify(delivery([logEvent()]))));
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body!).error).toBe('body_too_large');
    expect(await allItems(db.client, tableName)).toEqual([]);
  });

  it('never logs the secret or the Authorization value', async () => {
    const { handler } = await setup();
    await handler(post(valid()));
    await handler(post(valid(), { authorization: 'Basic bmVhci1taXNz' }));
    const all = lines.join('\n');
    // One line per request, one per stored delivery, and its metrics line.
    expect(lines.map((l) => (JSON.parse(l) as { msg?: string }).msg ?? 'metrics')).toEqual([
      'request',
      'store',
      'metrics',
      'request',
    ]);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('bmVhci1taXNz');
    expect(all).not.toContain(SIGNING);
  });
});

describe('operating a deployed stage', () => {
  it('prints an EMF metrics line counting stored and duplicate events', async () => {
    const { handler } = await setup({ STAGE: 'staging' });
    await handler(post(sampleDeliveryText));
    await handler(post(sampleDeliveryText.replace('85b60edb', 'another0')));
    const metrics = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => '_aws' in l);
    expect(metrics).toEqual([
      expect.objectContaining({ Stage: 'staging', EventsStored: 1, DuplicateEvents: 0 }),
      expect.objectContaining({ Stage: 'staging', EventsStored: 0, DuplicateEvents: 1 }),
    ]);
    expect(metrics[0]!._aws).toMatchObject({
      CloudWatchMetrics: [
        {
          Namespace: 'OktaEventHooks',
          Dimensions: [['Stage']],
          Metrics: [
            { Name: 'EventsStored', Unit: 'Count' },
            { Name: 'DuplicateEvents', Unit: 'Count' },
          ],
        },
      ],
    });
  });

  it('authenticates deliveries with the secret from SSM, not the environment', async () => {
    const ssm = await startFakeSsm({ '/okta-event-hooks/staging/okta-auth-secret': SECRET });
    try {
      const { handler, tableName } = await setup({
        STAGE: 'staging',
        SECRETS_PATH: '/okta-event-hooks/staging',
        SSM_ENDPOINT: ssm.endpoint,
        OKTA_AUTH_SECRET: 'Basic ZW52LXZhbHVl',
      });
      const fromEnv = await handler(
        post(sampleDeliveryText, { authorization: 'Basic ZW52LXZhbHVl' }),
      );
      expect(fromEnv.statusCode).toBe(401);
      expect(await allItems(db.client, tableName)).toEqual([]);
      expect((await handler(post(sampleDeliveryText))).statusCode).toBe(204);
    } finally {
      await ssm.stop();
    }
  });
});

describe('receiving first, storing from the stream', () => {
  /** A client for the same DynamoDB Local that records the name of every command it sends. */
  function recordingClient(sent: string[]) {
    const client = createDynamoDbClient({
      region: 'us-east-1',
      dynamodbEndpoint: db.local.endpoint,
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    return client;
  }

  it('answers after one conditional write whatever the batch size; the stream stores every event', async () => {
    const { tableName, config, streams } = await setup();
    const sent: string[] = [];
    const client = recordingClient(sent);
    const receive = createDeliveryHandler({
      config,
      deliveries: new DeliveryStore(client, tableName),
    });
    const sizes = [1, 50, 500];
    const bodies = sizes.map((n) => delivery(Array.from({ length: n }, () => logEvent())));
    const writes: string[][] = [];
    for (const body of bodies) {
      sent.length = 0;
      expect((await receive(post(JSON.stringify(body)))).statusCode).toBe(204);
      writes.push([...sent]);
    }
    expect(writes).toEqual([['PutItemCommand'], ['PutItemCommand'], ['PutItemCommand']]);
    await streams.idle();
    const events = (await allItems(db.client, tableName)).filter((i) => i.itemType?.S === 'event');
    expect(events).toHaveLength(551);
    client.destroy();
  });

  it('splits a body too large for one item into parts written first, and reads it back byte for byte', async () => {
    const { handler, tableName, store } = await setup();
    // Random text hardly compresses: 4 events of 330 KB make about 1 MB of gzip.
    const events = Array.from({ length: 4 }, () =>
      logEvent({ debugContext: { debugData: { blob: randomBytes(250_000).toString('base64') } } }),
    );
    const text = JSON.stringify(delivery(events, { eventId: 'large-delivery' }));
    expect((await handler(post(text))).statusCode).toBe(204);
    const items = await allItems(db.client, tableName);
    const parts = items.filter(
      (i) => i.pk?.S === 'DELIVERY#large-delivery' && i.sk?.S !== 'DELIVERY',
    );
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const head = items.find(
      (i) => i.pk?.S === 'DELIVERY#large-delivery' && i.sk?.S === 'DELIVERY',
    )!;
    expect(head.bodyParts).toEqual({ N: String(parts.length) });
    expect(head.status).toEqual({ S: 'stored' });
    expect((await new EventQueries(db.client, tableName).getDelivery('large-delivery'))!.body).toBe(
      text,
    );
    for (const event of events)
      expect(await storedEvent(store, event.uuid as string)).toEqual(event);
  });

  it('keeps the same eventId with another body as another delivery: nothing sent is dropped', async () => {
    const { handler, tableName, store } = await setup();
    const a = logEvent();
    const b = logEvent();
    expect(
      (await handler(post(JSON.stringify(delivery([a], { eventId: 'reused-id' }))))).statusCode,
    ).toBe(204);
    expect(
      (await handler(post(JSON.stringify(delivery([b], { eventId: 'reused-id' }))))).statusCode,
    ).toBe(204);
    expect(await storedEvent(store, a.uuid as string)).toEqual(a);
    expect(await storedEvent(store, b.uuid as string)).toEqual(b);
    const heads = (await allItems(db.client, tableName)).filter(
      (i) => i.itemType?.S === 'delivery',
    );
    expect(heads.map((h) => h.deliveryId!.S).sort()).toEqual([
      'reused-id',
      expect.stringMatching(/^reused-id~[0-9a-f]{16}$/),
    ]);
  });

  it('hashes an eventId too long for a sort key instead of failing on every retry', async () => {
    const { handler, store, tableName } = await setup();
    const event = logEvent();
    const eventId = 'x'.repeat(2000);
    const response = await handler(post(JSON.stringify(delivery([event], { eventId }))));
    expect(response.statusCode).toBe(204);
    expect(await storedEvent(store, event.uuid as string)).toEqual(event);
    const head = (await allItems(db.client, tableName)).find((i) => i.itemType?.S === 'delivery')!;
    expect(head.deliveryId!.S).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(head.eventId!.S).toBe(eventId.slice(0, 1000));
  });

  it('compresses by item size: a 288 KB event with 1,000 long targets fits and is stored', async () => {
    const { handler, store } = await setup();
    const target = Array.from({ length: 1000 }, (_, i) => ({
      id: `00u${String(i).padStart(17, '0')}`,
      type: 'User',
      alternateId: `user.${i}.${'a'.repeat(80)}@example.com`,
      displayName: `User ${i} ${'b'.repeat(100)}`,
    }));
    const event = logEvent({ target });
    expect(JSON.stringify(event).length).toBeGreaterThan(280_000);
    const response = await handler(post(JSON.stringify(delivery([event]))));
    expect(response.statusCode).toBe(204);
    expect(await storedEvent(store, event.uuid as string)).toEqual(event);
  });

  it('refuses nesting deeper than any Okta event with 400 before parsing, storing nothing', async () => {
    const { handler, tableName } = await setup();
    const deep = `{"eventType":"com.okta.event_hook","data":{"events":[{"x":${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}}]}}`;
    const response = await handler(post(deep));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!).error).toBe('too_deeply_nested');
    expect(await allItems(db.client, tableName)).toEqual([]);
  });

  it('refuses a compressed body with 415 naming the encoding, not as malformed JSON', async () => {
    const { handler } = await setup();
    const response = await handler(post(sampleDeliveryText, { 'content-encoding': 'gzip' }));
    expect(response.statusCode).toBe(415);
    expect(JSON.parse(response.body!)).toMatchObject({ error: 'unsupported_content_encoding' });
    expect(JSON.parse(response.body!).message).toContain('gzip');
  });

  it('refuses a body whose invalid UTF-8 was replaced on the way in (as serverless offline does)', async () => {
    const { handler, tableName } = await setup();
    const event = logEvent({ displayMessage: 'PLACEHOLDER' });
    const text = JSON.stringify(delivery([event]));
    const bytes = Buffer.concat(
      text
        .split('PLACEHOLDER')
        .flatMap((part, i) =>
          i === 0 ? [Buffer.from(part)] : [Buffer.from([0xff, 0xc3, 0x28]), Buffer.from(part)],
        ),
    );
    // What a server that decodes the body as text hands over, with the client's Content-Length.
    const asText = post(bytes.toString('utf8'), { 'content-length': String(bytes.length) });
    const response = await handler(asText);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!).error).toBe('invalid_encoding');
    expect(await allItems(db.client, tableName)).toEqual([]);
  });
});
