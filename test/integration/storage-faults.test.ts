/**
 * Durable before acknowledged: when DynamoDB is down, slow, throttling or failing, the handler
 * answers 503 inside its budget, and the sender's retry completes the set exactly once.
 * DynamoDB Local is real; throttling, mid-delivery failures and slowness are injected at the
 * SDK layer because a real server cannot be made to produce them on demand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../lib/config';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { EventStore } from '../../lib/store/event-store';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery, logEvent } from '../helpers/okta';

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
    ...env,
  });
  return createDeliveryHandler({ config, store: new EventStore(client, tableName) });
}

/** A client for the same DynamoDB Local whose PutItems fail once `healthyPuts` have succeeded. */
function failingAfter(healthyPuts: number, makeError: () => Error): DynamoDBClient {
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.local.endpoint });
  let puts = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutItemCommand' && ++puts > healthyPuts) throw makeError();
      return next(args);
    },
    { step: 'initialize', name: 'injectFault' },
  );
  return client;
}

async function eventUuidsStored(tableName: string): Promise<string[]> {
  const items = await allItems(db.client, tableName);
  return items.filter((i) => i.itemType?.S === 'event').map((i) => i.uuid!.S!);
}

it('answers 503 while DynamoDB is down, then the retry stores every event exactly once', async () => {
  const tableName = await db.newTable();
  const before = logEvent();
  const stored = delivery([before]);
  const healthy = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: db.local.endpoint,
  });
  expect((await handlerFor(tableName, healthy)(post(stored))).statusCode).toBe(204);

  const port = db.local.port;
  await db.local.stop();
  const retried = delivery([before, logEvent(), logEvent()]);
  const started = Date.now();
  const down = await handlerFor(tableName, healthy)(post(retried));
  const elapsed = Date.now() - started;
  expect(down.statusCode).toBe(503);
  expect(JSON.parse(down.body!).error).toBe('storage_unavailable');
  expect(elapsed).toBeLessThan(3000);

  db.client.destroy();
  db = await startTestDynamoDb({ dataDir, port });
  const recovered = createDynamoDbClient({
    region: 'us-east-1',
    dynamodbEndpoint: db.local.endpoint,
  });
  expect((await handlerFor(tableName, recovered)(post(retried))).statusCode).toBe(204);
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
  'answers 503 when DynamoDB fails mid-delivery with %s; the retry stores the rest once',
  async (_name, makeError) => {
    const tableName = await db.newTable();
    const events = Array.from({ length: 40 }, () => logEvent());
    const body = delivery(events);

    const faulty = failingAfter(10, makeError);
    const response = await handlerFor(tableName, faulty)(post(body));
    expect(response.statusCode).toBe(503);
    const partial = await eventUuidsStored(tableName);
    expect(partial.length).toBeGreaterThanOrEqual(10);
    expect(partial.length).toBeLessThan(40);
    expect((await allItems(db.client, tableName)).some((i) => i.itemType?.S === 'delivery')).toBe(
      false,
    );

    const healthy = createDynamoDbClient({
      region: 'us-east-1',
      dynamodbEndpoint: db.local.endpoint,
    });
    expect((await handlerFor(tableName, healthy)(post(body))).statusCode).toBe(204);
    const all = await eventUuidsStored(tableName);
    expect(all.sort()).toEqual(events.map((e) => e.uuid as string).sort());
    const record = (await allItems(db.client, tableName)).find(
      (i) => i.itemType?.S === 'delivery',
    )!;
    expect(record.storedCount).toEqual({ N: String(40 - partial.length) });
    expect(record.duplicateCount).toEqual({ N: String(partial.length) });
    faulty.destroy();
    healthy.destroy();
  },
);

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
  const response = await handlerFor(tableName, healthy)(late);
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
