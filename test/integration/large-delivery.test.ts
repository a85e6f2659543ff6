/**
 * A very large delivery through the real stream runner (Lambda's event source mapping rules) and
 * the store function in-process: it is stored in bounded steps, each continued by a follow-up
 * invocation, so no invocation runs out of time and none fails (issue 18, "also 2").
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import { loadConfig } from '../../lib/config';
import {
  type InvokeResult,
  startStreamRunner,
  streamConsumers,
} from '../../lib/local/stream-runner';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { EventQueries } from '../../lib/store/event-queries';
import { EVENTS_PER_INVOCATION, createStoreHandler } from '../../lib/stream/store-deliveries';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery } from '../helpers/okta';
import { type StreamHandler, inProcessInvoker } from '../helpers/streams';

const SECRET = 'Basic YWRtaW46c3VwZXJzZWNyZXQ=';
let db: TestDynamoDb;

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
afterEach(() => jest.restoreAllMocks());

/** Small events (about 200 bytes): 20,000 of them fit in one request under MAX_BODY_BYTES. */
function smallEvent(i: number) {
  return {
    uuid: randomUUID(),
    published: new Date(Date.UTC(2026, 11, 1, 0, 0, 0, i)).toISOString(),
    eventType: 'user.session.start',
    version: '0',
    severity: 'INFO',
    displayMessage: `User login to Okta ${i}`,
    actor: null,
    target: null,
  };
}

async function countEvents(tableName: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await db.client.send(
      new ScanCommand({
        TableName: tableName,
        Select: 'COUNT',
        FilterExpression: 'itemType = :event',
        ExpressionAttributeValues: { ':event': { S: 'event' } },
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

it('stores a 20,000-event delivery in bounded steps, with no failed invocation', async () => {
  const tableName = await db.newTable();
  const config = loadConfig({
    OKTA_AUTH_SECRET: SECRET,
    EVENTS_TABLE: tableName,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    REQUEST_BUDGET_MS: '60000',
  });
  const receive = createDeliveryHandler({
    config,
    deliveries: new DeliveryStore(db.client, tableName),
  });
  const body = JSON.stringify(
    delivery(
      Array.from({ length: 20_000 }, (_, i) => smallEvent(i)),
      { eventId: 'twenty-thousand' },
    ),
  );
  const answer = await receive(
    v2Event({ body, headers: { 'content-type': 'application/json', authorization: SECRET } }),
  );
  expect(answer.statusCode).toBe(204);

  // Each invocation as Lambda gives it: 30 s to live (the deployed function has 120 s).
  const store = inProcessInvoker(
    { store: createStoreHandler({ config }) as StreamHandler },
    30_000,
  );
  const results: InvokeResult[] = [];
  const streams = await startStreamRunner({
    client: db.client,
    endpoint: db.local.endpoint,
    region: 'us-east-1',
    tableName,
    consumers: streamConsumers().filter((c) => c.name === 'store'),
    retryBaseMs: 10,
    invoke: async (name, event) => {
      const result = await store(name, event);
      results.push(result);
      return result;
    },
  });
  await streams.idle();
  await streams.stop();

  const failed = results.filter(
    (r) =>
      !r.ok || ((r.response as DynamoDBBatchResponse | null)?.batchItemFailures ?? []).length > 0,
  );
  expect(failed).toEqual([]);
  expect(streams.failures).toEqual([]);
  // One step per EVENTS_PER_INVOCATION events at most: the first, then its follow-ups.
  expect(results.length).toBeGreaterThanOrEqual(20_000 / EVENTS_PER_INVOCATION);
  const record = (await new EventQueries(db.client, tableName).getDelivery('twenty-thousand'))!;
  expect(record).toMatchObject({ status: 'stored', storedCount: 20_000, duplicateCount: 0 });
  expect(await countEvents(tableName)).toBe(20_000);
}, 900_000); // 20,000 events into DynamoDB Local on a shared 2-core machine
