/**
 * Faults: DynamoDB Local killed mid-run and restarted on its port with its data; DynamoDB made
 * slower than the 3 s budget by a latency proxy; throttling and internal errors injected at the
 * SDK layer. Both sides are checked. The receiver answers 503 when it could not make the
 * delivery durable and 204 otherwise: never a 2xx without the delivery's record in the table.
 * The store side (the stream's retries, its on-failure path, then `npm run events -- redrive`
 * for what ran out of retries) ends with every acknowledged event stored exactly once.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_TABLE_NAME, loadConfig } from '../../lib/config';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { deliveryKey } from '../../lib/store/delivery-items';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../../lib/store/dynamodb';
import { EventStore } from '../../lib/store/event-store';
import { createStoreHandler } from '../../lib/stream/store-deliveries';
import {
  type ServerlessOffline,
  freePort,
  startServerlessOffline,
} from '../../lib/local/local-stack';
import {
  type StreamRunner,
  offlineInvoker,
  startStreamRunner,
} from '../../lib/local/stream-runner';
import { EVENT_TYPES } from '../../lib/okta-simulator/events';
import { planSend } from '../../lib/okta-simulator/send';
import { ensureTable } from '../../lib/store/table-definition';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { isRunning } from '../helpers/run';
import { type SlowProxy, startSlowProxy } from '../helpers/slow-proxy';
import { type StreamHandler, startTestStreams } from '../helpers/streams';
import {
  type Answer,
  type Drained,
  type SendRecord,
  type SentDelivery,
  account,
  deliverUntilAccepted,
  drainStore,
  inPool,
  late,
  pair,
  platformTimeout,
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
let streams: StreamRunner;
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
  // The stream is read from DynamoDB Local itself; the store function, inside serverless
  // offline, writes through the proxy like the receiver. Retries spaced so that together
  // (about 15 s) they can outlast a short outage; what outlasts them goes to redrive.
  streams = await startStreamRunner({
    client: db.client,
    endpoint: db.local.endpoint,
    region: 'us-east-1',
    tableName: DEFAULT_TABLE_NAME,
    invoke: offlineInvoker(offline.lambdaPort, 'okta-event-hooks', 'local'),
    onLine: (line) => offlineLines.push(line),
    retryBaseMs: 200,
  });
  url = `${offline.url}/okta-webhooks-endpoint`;
  httpRecords.push(...(await warmUp(url, SECRET, 8)));
}, 180_000);

afterAll(async () => {
  const pids = [offline?.pid, db?.local.pid].filter((p): p is number => p !== undefined);
  await streams?.stop();
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

/** Over HTTP: Okta's delivery (one retry), then redeliveries until accepted. */
function overHttp(
  delivery: SentDelivery,
  onAnswers?: (answers: Answer[]) => void,
): Promise<SendRecord> {
  return deliverUntilAccepted(url, delivery, SECRET, { onAnswers, pauseMs: 300 });
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
  expect(totals.unstoredDeliveries).toEqual({});
}

/** The store side of the shared table to its end: stream drained, then redrive if needed. */
function drainShared(failuresBefore: number): Promise<Drained> {
  return drainStore(
    streams,
    { DYNAMODB_ENDPOINT: db.local.endpoint, EVENTS_TABLE: DEFAULT_TABLE_NAME },
    failuresBefore,
  );
}

/** Retries and on-failure batches of the stream runner so far. */
function storeRetries(): number {
  return offlineLines.filter((l) => /^stream: store failed/.test(l)).length;
}

function recordDrained(prefix: string, drained: Drained, retriesBefore: number) {
  recordFigure(
    'faults',
    `${prefix}: store retries / on-failure batches / redriven`,
    `${storeRetries() - retriesBefore} / ${drained.failedBatches} / ${drained.redriven}`,
  );
}

it('DynamoDB Local killed mid-run and restarted: 503 while down, 204 only when durable, then every event once', async () => {
  const planned = deliveries(config.killDeliveries);
  const retriesBefore = storeRetries();
  const failuresBefore = streams.failures.length;
  let accepted = 0;
  let killedAt: number | undefined;
  let restartedAt: number | undefined;
  const outage = (async () => {
    while (accepted < planned.length / 4) await new Promise((r) => setTimeout(r, 50));
    const port = db.local.port;
    process.kill(db.local.pid, 'SIGKILL'); // no shutdown: as a crash, receiver and store busy
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
  const drained = await drainShared(failuresBefore);

  const answers = records.flatMap((r) => [...r.answers, ...(r.redeliveries ?? [])]);
  recordFigure('faults', 'DynamoDB Local kills (SIGKILL, restart on its port)', 1);
  recordFigure(
    'faults',
    'kill: deliveries / 503 answers / late',
    `${records.length} / ${answers.filter((a) => a.status === 503).length} / ${answers.filter(late).length}`,
  );
  recordFigure('faults', 'kill: outage (ms)', restartedAt! - killedAt!);
  recordDrained('kill', drained, retriesBefore);
  expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);
  const totals = await account(db.client, DEFAULT_TABLE_NAME, httpRecords);
  expectIntact(totals, httpRecords);
});

it('DynamoDB slower than the budget (latency proxy): 503 inside 3 s, never a 2xx, then every event once', async () => {
  const planned = deliveries(config.slowDeliveries);
  const retriesBefore = storeRetries();
  const failuresBefore = streams.failures.length;
  proxy.delayMs = 3500;
  const chunksBefore = proxy.delayedChunks;
  const slowAnswers: Answer[] = [];
  const healed = (async () => {
    // Slow until every delivery has been answered (or not) twice: Okta's retry included.
    while (slowAnswers.length < planned.length * 2) {
      await new Promise((r) => setTimeout(r, 100));
    }
    proxy.delayMs = 0;
  })();
  const records = await inPool(planned, 8, (delivery) =>
    overHttp(delivery, (answers) => {
      if (proxy.delayMs > 0) slowAnswers.push(...answers);
    }),
  );
  await healed;
  httpRecords.push(...records);

  const inTime = slowAnswers.filter((a) => a.status === 503 && !late(a)).length;
  const platform = slowAnswers.filter(platformTimeout).length;
  recordFigure('faults', 'slow: DynamoDB latency added (ms)', 3500);
  recordFigure(
    'faults',
    'slow: answers while slow / 503 inside 3 s / late / offline 504',
    `${slowAnswers.length} / ${inTime} / ${slowAnswers.filter(late).length} / ${platform}`,
  );
  recordFigure('faults', 'slow: chunks held back by the proxy', proxy.delayedChunks - chunksBefore);
  // The budget is what is under test: DynamoDB takes 3.5 s, so without it every answer would
  // come after Okta's 3 s. Never a 2xx while no write can finish; a 503 or (on a machine
  // too busy to answer in time) late.
  expect(slowAnswers.filter((a) => a.status !== 503 && !late(a) && !platformTimeout(a))).toEqual(
    [],
  );
  expect(inTime).toBeGreaterThan(0);
  // Abandoned writes land late (a 503'd delivery may be stored too): the stream takes them.
  await new Promise((r) => setTimeout(r, 4000));
  const drained = await drainShared(failuresBefore);
  recordDrained('slow', drained, retriesBefore);
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
  requestTimeoutMs?: number,
): DynamoDBClient {
  const client = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: db.local.endpoint },
    { requestTimeoutMs },
  );
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

it('throttling and internal errors at the SDK layer, receiving and storing: no 2xx for a delivery not durable, then every event once', async () => {
  jest
    .spyOn(console, 'log')
    .mockImplementation((line: unknown) => void logLines.push(String(line)));
  jest
    .spyOn(console, 'error')
    .mockImplementation((line: unknown) => void logLines.push(String(line)));
  const tableName = await db.newTable();
  const receiveFaults = { throttles: 0, internal: 0 };
  const storeFaults = { throttles: 0, internal: 0 };
  const receiveClient = faultyClient(config.sdkFaultRate, receiveFaults);
  const storeClient = faultyClient(config.sdkFaultRate, storeFaults, READ_REQUEST_TIMEOUT_MS);
  const appConfig = loadConfig({
    OKTA_AUTH_SECRET: SECRET,
    EVENTS_TABLE: tableName,
    // Not about the budget (the slow test is): every 503 here is an injected fault.
    REQUEST_BUDGET_MS: '60000',
  });
  const handler = createDeliveryHandler({
    config: appConfig,
    deliveries: new DeliveryStore(receiveClient, tableName),
  });
  const tableStreams = await startTestStreams(db, tableName, {
    handlers: {
      store: createStoreHandler({
        config: appConfig,
        stores: {
          deliveries: new DeliveryStore(storeClient, tableName),
          events: new EventStore(storeClient, tableName),
        },
      }) as StreamHandler,
    },
  });
  const ackedButNotDurable: string[] = [];

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
        if (response.statusCode < 300 && !(await isDurable(delivery, tableName)))
          ackedButNotDurable.push(delivery.eventId);
        return [answer];
      },
      { maxAttempts: 100, pauseMs: 20, maxPauseMs: 1000 },
    ),
  );
  const drained = await drainStore(tableStreams, {
    DYNAMODB_ENDPOINT: db.local.endpoint,
    EVENTS_TABLE: tableName,
  });
  await tableStreams.stop();
  jest.restoreAllMocks();

  const totals = await account(db.client, tableName, records);
  recordFigure(
    'faults',
    'SDK: deliveries / 503 answers',
    `${records.length} / ${totals.status503}`,
  );
  recordFigure(
    'faults',
    'SDK: throttles / internal errors injected (receive, store)',
    `${receiveFaults.throttles} / ${receiveFaults.internal}, ${storeFaults.throttles} / ${storeFaults.internal}`,
  );
  recordFigure('faults', 'SDK: 2xx for a delivery not durable', ackedButNotDurable.length);
  recordFigure(
    'faults',
    'SDK: on-failure batches / redriven',
    `${drained.failedBatches} / ${drained.redriven}`,
  );
  recordFigure(
    'faults',
    'SDK: 204 to stored p50 / p99 (ms)',
    pair(totals.lagP50Ms, totals.lagP99Ms),
  );
  recordFigure(
    'faults',
    'SDK: lost / duplicated / changed',
    `${totals.lost} / ${totals.duplicated} / ${totals.changed}`,
  );
  expect(receiveFaults.throttles + receiveFaults.internal).toBeGreaterThan(0);
  expect(storeFaults.throttles + storeFaults.internal).toBeGreaterThan(0);
  expect(totals.status503).toBeGreaterThan(0);
  expect(ackedButNotDurable).toEqual([]);
  expectIntact(totals, records);
  receiveClient.destroy();
  storeClient.destroy();
});

/** Whether the delivery's record is in the table, read with a client no fault touches. */
async function isDurable(delivery: SentDelivery, tableName: string): Promise<boolean> {
  const { Item } = await db.client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: deliveryKey(delivery.eventId),
      ConsistentRead: true,
      ProjectionExpression: 'pk',
    }),
  );
  return Item !== undefined;
}
