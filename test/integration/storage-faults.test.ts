/**
 * Durable before acknowledged: when DynamoDB is down or slow the receiver answers 503 inside its
 * budget and the sender's retry is received; when writing the events fails, the stream's retries
 * (then redrive) complete the set exactly once. DynamoDB Local is real; throttling, failures and
 * slowness are injected at the SDK layer because a real server cannot produce them on demand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../lib/config';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../../lib/store/dynamodb';
import { EventStore } from '../../lib/store/event-store';
import { createStoreHandler } from '../../lib/stream/store-deliveries';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery, logEvent } from '../helpers/okta';
import { runScript } from '../helpers/run';
import { type StreamHandler, startTestStreams } from '../helpers/streams';

const SECRET = 'Basic c2VjcmV0';
let dataDir: string;
let db: TestDynamoDb;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'okta-hooks-faults-'));
  db = await startTestDynamoDb({ dataDir });
});
afterAll(async () => {
  await db?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});
beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

function post(body: unknown) {
  return v2Event({
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: SECRET },
  });
}

function handlerFor(tableName: string, client: DynamoDBClient, env: Record<string, string> = {}) {
  const config = loadConfig({
    OKTA_AUTH_SECRET: SECRET,
    EVENTS_TABLE: tableName,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    // Only the budget tests below use the real budget: a cold DynamoDB Local on a busy machine
    // can take longer than 2.5 s for a first write, which is not what the others are about.
    REQUEST_BUDGET_MS: '60000',
    ...env,
  });
  return createDeliveryHandler({ config, deliveries: new DeliveryStore(client, tableName) });
}

/** Commands of one kind fail while `failing(n)` says so for the n-th of them (from 1). */
function faultyClient(
  command: string,
  failing: (n: number) => boolean,
  makeError: () => Error,
): DynamoDBClient & { calls: () => number } {
  const client = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: db.local.endpoint },
    { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS },
  );
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && failing(++calls)) throw makeError();
      return next(args);
    },
    { step: 'initialize', name: 'injectFault' },
  );
  return Object.assign(client, { calls: () => calls });
}

async function eventUuidsStored(tableName: string): Promise<string[]> {
  const items = await allItems(db.client, tableName);
  return items.filter((i) => i.itemType?.S === 'event').map((i) => i.uuid!.S!);
}

function storeWith(tableName: string, client: DynamoDBClient) {
  const config = loadConfig({ EVENTS_TABLE: tableName, DYNAMODB_ENDPOINT: db.local.endpoint });
  return createStoreHandler({
    config,
    stores: {
      deliveries: new DeliveryStore(client, tableName),
      events: new EventStore(client, tableName),
    },
  }) as StreamHandler;
}

it('answers 503 while DynamoDB is down, then the retry is received and every event stored exactly once', async () => {
  const tableName = await db.newTable();
  const before = logEvent();
  const healthy = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: db.local.endpoint,
  });
  expect((await handlerFor(tableName, healthy)(post(delivery([before])))).statusCode).toBe(204);

  const port = db.local.port;
  await db.local.stop();
  const retried = delivery([before, logEvent(), logEvent()]);
  const down = await handlerFor(tableName, healthy)(post(retried));
  expect(down.statusCode).toBe(503);
  expect(JSON.parse(down.body!).error).toBe('storage_unavailable');

  db.client.destroy();
  db = await startTestDynamoDb({ dataDir, port });
  const recovered = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: db.local.endpoint,
  });
  expect((await handlerFor(tableName, recovered)(post(retried))).statusCode).toBe(204);
  const streams = await startTestStreams(db, tableName, {
    handlers: { store: storeWith(tableName, recovered) },
  });
  await streams.idle();
  await streams.stop();
  const uuids = await eventUuidsStored(tableName);
  expect(uuids.sort()).toEqual(retried.data.events.map((e) => e.uuid as string).sort());
  healthy.destroy();
  recovered.destroy();
});

it.each([
  ['throttling', () => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} })],
  [
    'an internal error',
    () => Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }),
  ],
])(
  'when DynamoDB fails mid-delivery with %s, the stream retries leave whole events and finish the set once',
  async (_name, makeError) => {
    const tableName = await db.newTable();
    const events = Array.from({ length: 60 }, () => logEvent());
    const healthy = createDynamoDbClient({
      region: 'us-east-1',
      dynamodbEndpoint: db.local.endpoint,
    });
    expect((await handlerFor(tableName, healthy)(post(delivery(events)))).statusCode).toBe(204);

    // Puts 11 to 30 fail: the first attempt stops after 10 events, the retries go on from there.
    const faulty = faultyClient('PutItemCommand', (n) => n > 10 && n <= 30, makeError);
    const streams = await startTestStreams(db, tableName, {
      handlers: { store: storeWith(tableName, faulty) },
    });
    await streams.idle();
    await streams.stop();
    expect(streams.failures).toEqual([]);

    const items = await allItems(db.client, tableName);
    const stored = items.filter((i) => i.itemType?.S === 'event');
    expect(stored.map((i) => i.uuid!.S).sort()).toEqual(events.map((e) => e.uuid as string).sort());
    // Every event has its link items: links go first, event by event group.
    const links = new Set(items.filter((i) => i.pk!.S!.startsWith('USER#')).map((i) => i.uuid!.S));
    expect(stored.every((i) => links.has(i.uuid!.S))).toBe(true);
    // Each event was put once, plus the 20 puts that failed: retries skip what exists.
    expect(faulty.calls()).toBe(60 + 20);
    const head = items.find((i) => i.itemType?.S === 'delivery')!;
    expect(head).toMatchObject({
      status: { S: 'stored' },
      storedCount: { N: '60' },
      duplicateCount: { N: '0' },
    });
    faulty.destroy();
    healthy.destroy();
  },
);

it('when the store keeps failing, the delivery stays received, goes to the on-failure path, and redrive stores it once', async () => {
  const tableName = await db.newTable();
  const events = Array.from({ length: 5 }, () => logEvent());
  const healthy = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: db.local.endpoint,
  });
  expect(
    (await handlerFor(tableName, healthy)(post(delivery(events, { eventId: 'stuck' })))).statusCode,
  ).toBe(204);

  const broken = faultyClient(
    'BatchGetItemCommand',
    () => true,
    () => Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }),
  );
  const streams = await startTestStreams(db, tableName, {
    handlers: { store: storeWith(tableName, broken) },
  });
  await streams.idle();
  await streams.stop();
  expect(streams.failures).toHaveLength(1);
  expect(streams.failures[0]).toMatchObject({ consumer: 'store', attempts: 11 });
  expect(await eventUuidsStored(tableName)).toEqual([]);

  const env = { DYNAMODB_ENDPOINT: db.local.endpoint, EVENTS_TABLE: tableName };
  const first = await runScript('scripts/events.ts', ['redrive'], env);
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/ stuck {2}stored {2}stored=5 duplicates=0$/m);
  expect(first.stderr).toContain('Redrove 1 delivery');
  expect((await eventUuidsStored(tableName)).sort()).toEqual(
    events.map((e) => e.uuid as string).sort(),
  );

  const again = await runScript('scripts/events.ts', ['redrive'], env);
  expect(again.code).toBe(0);
  expect(again.stdout).toBe('');
  expect(again.stderr).toContain('No delivery waiting to be stored');
  broken.destroy();
  healthy.destroy();
});

it('under load with a flaky DynamoDB, every event of 20 parallel deliveries ends stored exactly once', async () => {
  const tableName = await db.newTable();
  const healthy = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: db.local.endpoint,
  });
  const bodies = Array.from({ length: 20 }, () =>
    delivery(Array.from({ length: 10 }, () => logEvent())),
  );
  const answers = await Promise.all(bodies.map((b) => handlerFor(tableName, healthy)(post(b))));
  expect(answers.map((a) => a.statusCode)).toEqual(bodies.map(() => 204));

  // One write in four fails, whatever it is, inside the SDK's own retries (seeded, repeatable).
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const flaky = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: db.local.endpoint },
    { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS },
  );
  let injected = 0;
  flaky.middlewareStack.add(
    (next, context) => async (args) => {
      if (/Put|Write|Update/.test(context.commandName ?? '') && random() < 0.25) {
        injected++;
        throw new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
      }
      return next(args);
    },
    { step: 'deserialize', name: 'injectFault' },
  );
  const streams = await startTestStreams(db, tableName, {
    handlers: { store: storeWith(tableName, flaky) },
  });
  await streams.idle();
  await streams.stop();
  expect(injected).toBeGreaterThan(20);
  expect(streams.failures).toEqual([]);
  const items = await allItems(db.client, tableName);
  const uuids = items.filter((i) => i.itemType?.S === 'event').map((i) => i.uuid!.S!);
  expect(uuids.sort()).toEqual(
    bodies.flatMap((b) => b.data.events.map((e) => e.uuid as string)).sort(),
  );
  expect(
    items.filter((i) => i.itemType?.S === 'delivery').every((d) => d.status?.S === 'stored'),
  ).toBe(true);
  flaky.destroy();
  healthy.destroy();
});

it('answers 503 inside the budget when DynamoDB is slower than the budget', async () => {
  const tableName = await db.newTable();
  const slow = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.local.endpoint });
  slow.middlewareStack.add(
    (next) => async (args) => {
      await new Promise((r) => setTimeout(r, 1500));
      return next(args);
    },
    { step: 'finalizeRequest', name: 'slowDown' },
  );
  const started = Date.now();
  const response = await handlerFor(tableName, slow, { REQUEST_BUDGET_MS: '400' })(
    post(delivery([logEvent()])),
  );
  const elapsed = Date.now() - started;
  expect(response.statusCode).toBe(503);
  expect(elapsed).toBeGreaterThanOrEqual(350);
  expect(elapsed).toBeLessThan(1400);
  await new Promise((r) => setTimeout(r, 1500)); // let the abandoned write finish before closing
  slow.destroy();
});

it('counts a cold start against the budget: a request that waited past it is answered 503, not stored', async () => {
  const tableName = await db.newTable();
  const healthy = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: db.local.endpoint,
  });
  const late = post(delivery([logEvent()]));
  late.requestContext.timeEpoch = Date.now() - 2600; // API Gateway received it 2.6 s ago
  const response = await handlerFor(tableName, healthy, { REQUEST_BUDGET_MS: '2500' })(late);
  expect(response.statusCode).toBe(503);
  expect(await eventUuidsStored(tableName)).toEqual([]);
  healthy.destroy();
});

it('gives up on a DynamoDB request that hangs after requestTimeout, instead of waiting for ever', async () => {
  const { createServer } = await import('node:net');
  const silent = createServer(() => undefined); // accepts, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as import('node:net').AddressInfo;
  const client = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: `http://127.0.0.1:${port}`,
  });
  await expect(
    client.send(new (await import('@aws-sdk/client-dynamodb')).ListTablesCommand({})),
  ).rejects.toMatchObject({ name: 'TimeoutError' });
  client.destroy();
  silent.close();
});
