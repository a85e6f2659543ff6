/**
 * Faults: DynamoDB Local killed mid-run and restarted on its port with its data; DynamoDB made
 * slower than the 3 s budget by a latency proxy; throttling and internal errors injected at the
 * SDK layer. In every case the service answers 503 inside 3 s, never a 2xx for an event it did
 * not store, and once the fault is gone the senders' retries complete the set exactly once.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  InternalServerError,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_TABLE_NAME, loadConfig } from '../../lib/config';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { eventKey } from '../../lib/store/event-items';
import { EventStore } from '../../lib/store/event-store';
import {
  type ServerlessOffline,
  freePort,
  startServerlessOffline,
} from '../../lib/local/local-stack';
import { deliver } from '../../lib/okta-simulator/deliver';
import { EVENT_TYPES } from '../../lib/okta-simulator/events';
import { planSend } from '../../lib/okta-simulator/send';
import { ensureTable } from '../../lib/store/table-definition';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { isRunning } from '../helpers/run';
import { type SlowProxy, startSlowProxy } from '../helpers/slow-proxy';
import {
  type Answer,
  type SendRecord,
  type SentDelivery,
  account,
  inPool,
  sendUntilAccepted,
  sentDelivery,
  warmUp,
} from './accounting';
import { profile, recordFigure } from './figures';

const SECRET = 'Basic ZmF1bHRzOnJlbGlhYmlsaXR5LXNlY3JldA==';
const config = profile();
let dataDir: string;
let db: TestDynamoDb;
let proxy: SlowProxy;
let offline: ServerlessOffline;
let url: string;
const offlineLines: string[] = [];
const logLines: string[] = [];
/** Everything sent over HTTP, warm-up included: one table holds it all. */
const httpRecords: SendRecord[] = [];

beforeAll(async () => {
  // On tmpfs where there is one: the data still outlives the process, and DynamoDB Local's
  // SQLite fsync on every write no longer makes a slow disk the thing being measured.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  dataDir = mkdtempSync(join(base, 'okta-hooks-reliability-'));
  db = await startTestDynamoDb({ dataDir });
  await ensureTable(db.client, DEFAULT_TABLE_NAME);
  proxy = await startSlowProxy(db.local.port);
  offline = await startServerlessOffline({
    httpPort: await freePort(),
    env: { ...process.env, OKTA_AUTH_SECRET: SECRET, DYNAMODB_ENDPOINT: proxy.endpoint },
    onLine: (line) => offlineLines.push(line),
  });
  url = `${offline.url}/okta-webhooks-endpoint`;
  httpRecords.push(...(await warmUp(url, SECRET, 8)));
}, 180_000);

afterAll(async () => {
  const pids = [offline?.pid, db?.local.pid].filter((p): p is number => p !== undefined);
  await offline?.stop();
  await proxy?.stop();
  await db?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  expect(pids.filter(isRunning)).toEqual([]);
  // Hundreds of refusals and failures were logged: none carries the secret.
  expect([...offlineLines, ...logLines].filter((l) => l.includes(SECRET))).toEqual([]);
});

function deliveries(count: number, seedRandom = Math.random): SentDelivery[] {
  const originals = Math.round(count * (1 - config.redeliveryShare));
  const batchSizes = Array.from({ length: originals }, () => 1 + Math.floor(seedRandom() * 50));
  return planSend({
    types: EVENT_TYPES,
    count: batchSizes.reduce((a, b) => a + b, 0),
    perRequest: 50,
    batchSizes,
    duplicates: (count - originals) / originals,
  }).map((r) => sentDelivery(r.body));
}

/** Over HTTP: Okta's delivery (one retry), repeated until accepted. */
function overHttp(delivery: SentDelivery): Promise<SendRecord> {
  return sendUntilAccepted(
    delivery,
    async () => (await deliver(url, delivery.body, { secret: SECRET })).attempts,
    { maxAttempts: 60, pauseMs: 300 },
  );
}

function expectIntact(totals: Awaited<ReturnType<typeof account>>, records: SendRecord[]) {
  expect(totals.breaches).toEqual([]);
  expect(totals.acceptedDeliveries).toBe(records.length);
  expect(totals.lost).toBe(0);
  expect(totals.duplicated).toBe(0);
  expect(totals.changed).toBe(0);
  expect(totals.unexpected).toBe(0);
  expect(totals.storedEvents).toBe(totals.uniqueEvents);
  expect(totals.deliveryRecords).toBe(new Set(records.map((r) => r.delivery.eventId)).size);
  expect(totals.missingDeliveryRecords).toBe(0);
}

it('DynamoDB Local killed mid-run and restarted: 503s inside 3 s, then every event once', async () => {
  const planned = deliveries(config.killDeliveries);
  let accepted = 0;
  let killedAt: number | undefined;
  let restartedAt: number | undefined;
  const outage = (async () => {
    while (accepted < planned.length / 4) await new Promise((r) => setTimeout(r, 50));
    const port = db.local.port;
    process.kill(db.local.pid, 'SIGKILL'); // no shutdown: as a crash
    await db.local.exited;
    killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    db.client.destroy();
    db = await startTestDynamoDb({ dataDir, port });
    restartedAt = Date.now();
  })();
  const records = await inPool(planned, 8, async (delivery) => {
    const record = await overHttp(delivery);
    if (record.acceptedAt !== undefined) accepted++;
    return record;
  });
  await outage;
  httpRecords.push(...records);

  const duringOutage = records.flatMap((r) => r.answers).filter((a) => a.status === 503).length;
  recordFigure('faults', 'DynamoDB Local kills (SIGKILL, restart on its port)', 1);
  recordFigure('faults', 'kill: deliveries / 503 answers', `${records.length} / ${duringOutage}`);
  recordFigure('faults', 'kill: outage (ms)', restartedAt! - killedAt!);
  expect(duringOutage).toBeGreaterThan(0);
  const totals = await account(db.client, DEFAULT_TABLE_NAME, httpRecords);
  expectIntact(totals, httpRecords);
});

it('DynamoDB slower than the budget (latency proxy): 503s inside 3 s, then every event once', async () => {
  const planned = deliveries(config.slowDeliveries);
  proxy.delayMs = 3500;
  const chunksBefore = proxy.delayedChunks;
  const slowAnswers: Answer[] = [];
  const healed = (async () => {
    // Slow until every delivery has been answered 503 at least once (Okta's retry included).
    while (slowAnswers.filter((a) => a.status === 503).length < planned.length * 2) {
      await new Promise((r) => setTimeout(r, 100));
    }
    proxy.delayMs = 0;
  })();
  const records = await inPool(planned, 8, (delivery) =>
    sendUntilAccepted(
      delivery,
      async () => {
        const { attempts } = await deliver(url, delivery.body, { secret: SECRET });
        if (proxy.delayMs > 0) slowAnswers.push(...attempts);
        return attempts;
      },
      { maxAttempts: 60, pauseMs: 300 },
    ),
  );
  await healed;
  httpRecords.push(...records);

  recordFigure('faults', 'slow: DynamoDB latency added (ms)', 3500);
  recordFigure(
    'faults',
    'slow: deliveries / 503 answers while slow',
    `${records.length} / ${slowAnswers.filter((a) => a.status === 503).length}`,
  );
  recordFigure('faults', 'slow: chunks held back by the proxy', proxy.delayedChunks - chunksBefore);
  expect(slowAnswers.every((a) => a.status === 503)).toBe(true);
  // Abandoned writes land late; give them time before counting.
  await new Promise((r) => setTimeout(r, 4000));
  const totals = await account(db.client, DEFAULT_TABLE_NAME, httpRecords);
  expectIntact(totals, httpRecords);
  recordFigure(
    'faults',
    'kill + slow: lost / duplicated / changed',
    `${totals.lost} / ${totals.duplicated} / ${totals.changed}`,
  );
});

/** A client of the same DynamoDB Local whose every call fails, at `rate`, with throttling or a 500. */
function faultyClient(
  rate: number,
  counts: { throttles: number; internal: number },
): DynamoDBClient {
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.local.endpoint });
  client.middlewareStack.add(
    (next) => async (args) => {
      if (Math.random() < rate) {
        if (Math.random() < 0.5) {
          counts.throttles++;
          throw new ThrottlingException({ message: 'Rate exceeded (injected)', $metadata: {} });
        }
        counts.internal++;
        throw new InternalServerError({
          message: 'Internal server error (injected)',
          $metadata: {},
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectFault' },
  );
  return client;
}

it('throttling and internal errors at the SDK layer: 503 inside 3 s, no 2xx for an unstored event, then every event once', async () => {
  jest
    .spyOn(console, 'log')
    .mockImplementation((line: unknown) => void logLines.push(String(line)));
  jest
    .spyOn(console, 'error')
    .mockImplementation((line: unknown) => void logLines.push(String(line)));
  const tableName = await db.newTable();
  const counts = { throttles: 0, internal: 0 };
  const client = faultyClient(config.sdkFaultRate, counts);
  const handler = createDeliveryHandler({
    config: loadConfig({ OKTA_AUTH_SECRET: SECRET, EVENTS_TABLE: tableName }),
    store: new EventStore(client, tableName),
  });
  const ackedButMissing: string[] = [];

  const records = await inPool(deliveries(config.sdkFaultDeliveries), 8, (delivery) =>
    sendUntilAccepted(
      delivery,
      async () => {
        const started = performance.now();
        const response = await handler(
          v2Event({
            body: delivery.body,
            headers: { 'content-type': 'application/json', authorization: SECRET },
          }),
        );
        const answer = {
          status: response.statusCode,
          body: response.body,
          latencyMs: Math.round(performance.now() - started),
        };
        if (response.statusCode < 300)
          ackedButMissing.push(...(await missing(delivery, tableName)));
        return [answer];
      },
      { maxAttempts: 100, pauseMs: 20 },
    ),
  );
  jest.restoreAllMocks();

  const totals = await account(db.client, tableName, records);
  recordFigure(
    'faults',
    'SDK: deliveries / 503 answers',
    `${records.length} / ${totals.status503}`,
  );
  recordFigure(
    'faults',
    'SDK: throttles / internal errors injected',
    `${counts.throttles} / ${counts.internal}`,
  );
  recordFigure('faults', 'SDK: 2xx for an event not stored', ackedButMissing.length);
  recordFigure(
    'faults',
    'SDK: lost / duplicated / changed',
    `${totals.lost} / ${totals.duplicated} / ${totals.changed}`,
  );
  expect(counts.throttles + counts.internal).toBeGreaterThan(0);
  expect(totals.status503).toBeGreaterThan(0);
  expect(ackedButMissing).toEqual([]);
  expectIntact(totals, records);
  client.destroy();
});

/** The delivery's events that are not in the table, read with a client no fault touches. */
async function missing(delivery: SentDelivery, tableName: string): Promise<string[]> {
  const uuids = [...new Set(delivery.events.map((e) => e.uuid as string))];
  const found = new Set<string>();
  for (let i = 0; i < uuids.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = uuids.slice(i, i + 100).map(eventKey);
    while (keys && keys.length > 0) {
      const page: import('@aws-sdk/client-dynamodb').BatchGetItemCommandOutput =
        await db.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [tableName]: {
                Keys: keys as never,
                ConsistentRead: true,
                ProjectionExpression: '#u',
                ExpressionAttributeNames: { '#u': 'uuid' },
              },
            },
          }),
        );
      for (const item of page.Responses?.[tableName] ?? []) found.add(item.uuid!.S!);
      keys = page.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return uuids.filter((u) => !found.has(u));
}
