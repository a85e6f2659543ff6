/**
 * End to end over HTTP: the receiver under a real `serverless offline` with the local stream
 * runner invoking the store function through it (the stack `npm start` runs), against a minimal
 * Node `http` server making the receiver's one write (bench/minimal-receiver.ts, the shape of the
 * Hookdeck sample app from Okta's guide).
 *
 * - One delivery at a time, sizes and targets interleaved in rounds: the answer time, and the
 *   lag from the 204 to the delivery marked stored (the next delivery waits until the stream is
 *   idle, so each lag is one delivery's own, not a queue's).
 * - A burst of deliveries a few at a time, the store falling behind: answer times while the
 *   store function writes, the lag with a queue, and the events stored per second.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DEFAULT_TABLE_NAME } from '../lib/config';
import { freePort, startServerlessOffline } from '../lib/local/local-stack';
import { offlineInvoker, startStreamRunner, streamConsumers } from '../lib/local/stream-runner';
import { deliveryKey } from '../lib/store/delivery-items';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';
import { percentile, round } from './stats';
import { generatedDeliveries } from './workload';

export const BENCH_SECRET = 'Basic YmVuY2g6YmVuY2g=';
const MINIMAL_TABLE = 'okta-events-minimal';

export interface SequentialRow {
  events: number;
  samples: number;
  offlineP50Ms: number;
  offlineP99Ms: number;
  minimalP50Ms: number;
  minimalP99Ms: number;
  /** Offline's p50 over the minimal server's: serverless offline's own share. */
  p50VsMinimal: number;
  /** Offline's p50 over its p50 for one event: what the batch size adds. */
  p50VsOneEvent: number;
  status503: number;
  lagP50Ms: number;
  lagP99Ms: number;
  /** The store function's own time for the delivery (storeMs on the record). */
  storeP50Ms: number;
}

export interface BurstFigures {
  deliveries: number;
  events: number;
  concurrency: number;
  answerP50Ms: number;
  answerP99Ms: number;
  status503: number;
  lagP50Ms: number;
  lagP99Ms: number;
  receivedPerSecond: number;
  storedEventsPerSecond: number;
}

export interface EndToEndFigures {
  sequential: SequentialRow[];
  burst: BurstFigures;
}

interface Sent {
  eventId: string;
  status: number;
  ms: number;
  /** Date.now() when the answer arrived. */
  answeredAt: number;
}

async function post(url: string, body: string): Promise<Sent> {
  const eventId = (JSON.parse(body) as { eventId: string }).eventId;
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: BENCH_SECRET },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 204 && response.status !== 503) {
    throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return { eventId, status: response.status, ms, answeredAt: Date.now() };
}

async function startMinimalReceiver(port: number, endpoint: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(__dirname, 'minimal-receiver.ts')],
    {
      env: {
        ...process.env,
        PORT: String(port),
        DYNAMODB_ENDPOINT: endpoint,
        EVENTS_TABLE: MINIMAL_TABLE,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`minimal receiver exited with ${code}`)));
  });
  return child;
}

/** The delivery records of `sent`: storedAt − the answer's arrival, and the function's time. */
async function lags(
  client: DynamoDBClient,
  sent: Sent[],
): Promise<{ lag: number[]; store: number[] }> {
  const lag: number[] = [];
  const store: number[] = [];
  for (const s of sent.filter((x) => x.status === 204)) {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: DEFAULT_TABLE_NAME,
        Key: deliveryKey(s.eventId),
        ConsistentRead: true,
      }),
    );
    if (Item?.status?.S !== 'stored') throw new Error(`delivery ${s.eventId} is not stored`);
    lag.push(Math.max(0, Date.parse(Item.storedAt!.S!) - s.answeredAt));
    store.push(Number(Item.storeMs!.N));
  }
  return { lag, store };
}

export async function measureEndToEnd(options: {
  client: DynamoDBClient;
  dynamodbEndpoint: string;
  sizes: number[];
  /** Deliveries of each size per round. */
  perRound: Record<number, number>;
  rounds: number;
  burst: { deliveries: number; events: number; concurrency: number };
}): Promise<EndToEndFigures> {
  const { client } = options;
  await ensureTable(client, MINIMAL_TABLE);
  const offline = await startServerlessOffline({
    httpPort: await freePort(),
    env: {
      ...process.env,
      OKTA_AUTH_SECRET: BENCH_SECRET,
      DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  const streams = await startStreamRunner({
    client,
    endpoint: options.dynamodbEndpoint,
    region: 'us-east-1',
    tableName: DEFAULT_TABLE_NAME,
    // Only the store function: on AWS the react function runs beside it on its own capacity;
    // here it would take a serverless offline invocation per 10 events from the same 2 cores.
    consumers: streamConsumers().filter((c) => c.name === 'store'),
    invoke: offlineInvoker(offline.lambdaPort, 'okta-event-hooks', 'local'),
  });
  const minimalPort = await freePort();
  let minimal: ChildProcess | undefined;
  try {
    minimal = await startMinimalReceiver(minimalPort, options.dynamodbEndpoint);
    const targets = {
      offline: `${offline.url}/okta-webhooks-endpoint`,
      minimal: `http://127.0.0.1:${minimalPort}/okta-webhooks-endpoint`,
    };
    const bodies = new Map(options.sizes.map((n) => [n, generatedDeliveries(n)]));
    // Warm-up: serverless offline builds and loads each function on its first request.
    for (const n of options.sizes) {
      for (const url of Object.values(targets)) await post(url, bodies.get(n)!());
    }
    await streams.idle();

    const sent = new Map(
      options.sizes.map((n) => [n, { offline: [] as Sent[], minimal: [] as number[] }]),
    );
    for (let round = 0; round < options.rounds; round++) {
      const sizes = round % 2 === 0 ? options.sizes : [...options.sizes].reverse();
      for (const n of sizes) {
        for (let i = 0; i < (options.perRound[n] ?? 1); i++) {
          const order = (round + i) % 2 === 0 ? ['offline', 'minimal'] : ['minimal', 'offline'];
          for (const target of order) {
            const result = await post(targets[target as keyof typeof targets], bodies.get(n)!());
            if (target === 'minimal') sent.get(n)!.minimal.push(result.ms);
            else {
              sent.get(n)!.offline.push(result);
              await streams.idle(); // each lag its own: the stream is empty before the next
            }
          }
        }
      }
    }
    const sequential: SequentialRow[] = [];
    for (const n of options.sizes) {
      const { offline: o, minimal: m } = sent.get(n)!;
      const { lag, store } = await lags(client, o);
      const o50 = percentile(
        o.map((s) => s.ms),
        50,
      );
      const m50 = percentile(m, 50);
      sequential.push({
        events: n,
        samples: o.length,
        offlineP50Ms: round(o50, 1),
        offlineP99Ms: round(
          percentile(
            o.map((s) => s.ms),
            99,
          ),
          1,
        ),
        minimalP50Ms: round(m50, 1),
        minimalP99Ms: round(percentile(m, 99), 1),
        p50VsMinimal: round(o50 / m50),
        p50VsOneEvent: round(o50 / (sequential[0]?.offlineP50Ms ?? o50)),
        status503: o.filter((s) => s.status === 503).length,
        lagP50Ms: round(percentile(lag, 50), 0),
        lagP99Ms: round(percentile(lag, 99), 0),
        storeP50Ms: round(percentile(store, 50), 0),
      });
    }

    // The burst: the store falls behind the receiver, as after an Okta outage.
    const { deliveries, events, concurrency } = options.burst;
    const next = generatedDeliveries(events);
    const burstBodies = Array.from({ length: deliveries }, () => next());
    const answers: Sent[] = [];
    const started = performance.now();
    const queue = burstBodies.values();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (const body of queue) answers.push(await post(targets.offline, body));
      }),
    );
    const receivedMs = performance.now() - started;
    await streams.idle();
    const storedMs = performance.now() - started;
    const burstLags = await lags(client, answers);
    const accepted = answers.filter((a) => a.status === 204).length;
    const burst: BurstFigures = {
      deliveries,
      events,
      concurrency,
      answerP50Ms: round(
        percentile(
          answers.map((a) => a.ms),
          50,
        ),
        1,
      ),
      answerP99Ms: round(
        percentile(
          answers.map((a) => a.ms),
          99,
        ),
        1,
      ),
      status503: deliveries - accepted,
      lagP50Ms: round(percentile(burstLags.lag, 50), 0),
      lagP99Ms: round(percentile(burstLags.lag, 99), 0),
      receivedPerSecond: round(deliveries / (receivedMs / 1000), 1),
      storedEventsPerSecond: round((accepted * events) / (storedMs / 1000), 0),
    };
    if (streams.failures.length > 0) throw new Error('the store function gave up a batch');
    return { sequential, burst };
  } finally {
    if (minimal?.pid !== undefined && minimal.exitCode === null) {
      const exited = new Promise((resolve) => minimal!.once('exit', resolve));
      process.kill(minimal.pid, 'SIGTERM');
      await exited;
    }
    await streams.stop();
    await offline.stop();
  }
}
