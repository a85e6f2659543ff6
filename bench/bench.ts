/**
 * `npm run bench`: since issue 11 the receiver answers after one durable write of the request
 * and the store function writes the events from the table's stream. Measured here, each inside
 * one run with the variants interleaved (the machine is shared and noisy: only the ratios travel
 * to other machines, not the milliseconds):
 *
 * - answer time for deliveries of 1, 50, 500 and 2,000 events: the warm handler in-process
 *   against the floor of its one write, and end to end through serverless offline against a
 *   minimal Node server making the same write;
 * - the 204-to-stored lag (one delivery at a time, and under a burst) and the store function's
 *   throughput, through serverless offline and in-process against the floor of its writes;
 * - the store function's write strategy against TransactWriteItems;
 * - each function's module load against the DynamoDB client's (cold start);
 * - write units per event and per delivery, and a monthly bill.
 *
 * `npm run bench -- --json` also writes the figures to bench/results/latest.json (git-ignored).
 * Options: --quick (fewer samples, for trying it out), --json [--out FILE].
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parse as parseYaml } from 'yaml';
import { type Config, DEFAULT_TABLE_NAME, loadConfig } from '../lib/config';
import { freePort, startDynamoDbLocal } from '../lib/local/local-stack';
import { startStreamRunner } from '../lib/local/stream-runner';
import { parseDelivery } from '../lib/okta/okta-contract';
import { DeliveryStore } from '../lib/store/delivery-store';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { expiryFor } from '../lib/store/event-items';
import { EventStore } from '../lib/store/event-store';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';
import { createStoreHandler } from '../lib/stream/store-deliveries';
import { createDeliveryHandler } from '../lib/webhook/delivery-endpoint';
import { v2Event } from '../test/helpers/api-gateway';
import { type StreamHandler, inProcessInvoker } from '../test/helpers/streams';
import { DYNAMODB_FLOOR, measureColdStart } from './cold-start';
import {
  type DeliveryUnits,
  PRICES,
  deliveryUnits,
  monthlyCost,
  reportedCapacity,
  sampleWriteUnits,
} from './cost';
import { BENCH_SECRET, type EndToEndFigures, measureEndToEnd } from './end-to-end';
import { percentile, round, timed } from './stats';
import {
  conditionalPuts,
  generatedDeliveries,
  receivedDelivery,
  receiverItems,
  recordDelivery,
  transactions,
  writePlan,
} from './workload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    out: { type: 'string', default: join(PROJECT_ROOT, 'bench/results/latest.json') },
    quick: { type: 'boolean', default: false },
  },
});
const QUICK = args.quick;

/** The delivery sizes of issue 11: the answer must not grow with them. */
export const SIZES = [1, 50, 500, 2000] as const;

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

/** The handler's own log lines and metrics: formatted as usual, not printed. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const realLog = console.log;
  console.log = () => undefined;
  try {
    return await work();
  } finally {
    console.log = realLog;
  }
}

interface AnswerRow {
  events: number;
  samples: number;
  bodyKB: number;
  gzipKB: number;
  handlerP50Ms: number;
  handlerP99Ms: number;
  floorP50Ms: number;
  floorP99Ms: number;
  /** gzipSync of the body alone: part of the handler's time, not of the floor's. */
  gzipP50Ms: number;
  p50VsFloor: number;
  p50VsOneEvent: number;
  status503: number;
}

/**
 * The warm handler (real DeliveryStore, DynamoDB Local) invoked in-process with HTTP API events,
 * against the floor: the same items (gzipped beforehand) written directly, parts then the head's
 * conditional PutItem. Pairs alternate which goes first.
 */
async function answerInProcess(client: DynamoDBClient, table: string): Promise<AnswerRow[]> {
  const config = loadConfig({
    STAGE: 'local',
    EVENTS_TABLE: table,
    OKTA_AUTH_SECRET: BENCH_SECRET,
    AWS_REGION: 'us-east-1',
  });
  const handler = createDeliveryHandler({ config, deliveries: new DeliveryStore(client, table) });
  const headers = { 'content-type': 'application/json', authorization: BENCH_SECRET };
  const invoke = async (body: string): Promise<number> => {
    const response = await handler(v2Event({ method: 'POST', headers, body }));
    if (response.statusCode !== 204 && response.statusCode !== 503) {
      throw new Error(`handler answered ${response.statusCode}: ${response.body}`);
    }
    return response.statusCode;
  };

  const rows: AnswerRow[] = [];
  for (const events of SIZES) {
    const samples = QUICK ? 8 : { 1: 200, 50: 200, 500: 60, 2000: 30 }[events];
    const next = generatedDeliveries(events);
    for (let i = 0; i < 3; i++) {
      await invoke(next());
      await recordDelivery(client, table, receiverItems(next()));
    }
    const handlerMs: number[] = [];
    const floorMs: number[] = [];
    const gzipMs: number[] = [];
    let status503 = 0;
    let bodyBytes = 0;
    let gzipBytes = 0;
    for (let i = 0; i < samples; i++) {
      const handlerBody = next();
      const floorItems = receiverItems(next()); // outside the timing: the floor is the write alone
      const runHandler = async () => {
        const started = performance.now();
        if ((await invoke(handlerBody)) === 503) status503++;
        handlerMs.push(performance.now() - started);
      };
      const runFloor = async () =>
        floorMs.push(await timed(() => recordDelivery(client, table, floorItems)));
      if (i % 2 === 0) {
        await runHandler();
        await runFloor();
      } else {
        await runFloor();
        await runHandler();
      }
      const raw = Buffer.from(handlerBody);
      const started = performance.now();
      const gzipped = gzipSync(raw);
      gzipMs.push(performance.now() - started);
      bodyBytes = raw.length;
      gzipBytes = gzipped.length;
    }
    const h50 = percentile(handlerMs, 50);
    const f50 = percentile(floorMs, 50);
    rows.push({
      events,
      samples,
      bodyKB: round(bodyBytes / 1024, 1),
      gzipKB: round(gzipBytes / 1024, 1),
      handlerP50Ms: round(h50, 1),
      handlerP99Ms: round(percentile(handlerMs, 99), 1),
      floorP50Ms: round(f50, 1),
      floorP99Ms: round(percentile(floorMs, 99), 1),
      gzipP50Ms: round(percentile(gzipMs, 50), 1),
      p50VsFloor: round(h50 / f50),
      p50VsOneEvent: round(h50 / (rows[0]?.handlerP50Ms ?? h50)),
      status503,
    });
    log(`  ${events} events: handler p50 ${h50.toFixed(1)} ms, floor ${f50.toFixed(1)} ms`);
  }
  return rows;
}

interface StrategyRow {
  strategy: string;
  eventsPerSecond: number;
  duplicateCheck: string;
}

/** The store function's event writes: 50-event deliveries, strategies alternating in rounds. */
async function writeStrategies(client: DynamoDBClient, table: string): Promise<StrategyRow[]> {
  const strategies = {
    'conditional PutItem x16 (store function)': conditionalPuts,
    'TransactWriteItems (100/transaction)': transactions,
  };
  const next = generatedDeliveries(50);
  const rounds = QUICK ? 2 : 6;
  const perRound = QUICK ? 3 : 8;
  const totals = new Map(Object.keys(strategies).map((s) => [s, { events: 0, ms: 0 }]));
  const checks = new Map<string, string>();
  for (const [name, write] of Object.entries(strategies)) {
    // Idempotency check: a redelivery stores nothing.
    const body = next();
    await write(client, table, writePlan(body));
    const again = await write(client, table, writePlan(body));
    checks.set(name, again === 0 ? 'redelivery stored 0 of 50' : `redelivery stored ${again}!`);
    await write(client, table, writePlan(next())); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    const order = Object.entries(strategies);
    if (round % 2 === 1) order.reverse();
    for (const [name, write] of order) {
      const plans = Array.from({ length: perRound }, () => writePlan(next()));
      const total = totals.get(name)!;
      total.ms += await timed(async () => {
        for (const plan of plans) await write(client, table, plan);
      });
      total.events += perRound * 50;
    }
  }
  return Object.keys(strategies).map((strategy) => {
    const { events, ms } = totals.get(strategy)!;
    return {
      strategy,
      eventsPerSecond: round(events / (ms / 1000), 0),
      duplicateCheck: checks.get(strategy)!,
    };
  });
}

interface StoreThroughput {
  deliveries: number;
  eventsPerDelivery: number;
  rounds: number;
  functionEventsPerSecond: number;
  floorEventsPerSecond: number;
  ratio: number;
}

/**
 * The store function in-process, driven by the stream runner over a table of received
 * deliveries, against the floor: EventStore.storeEvents on the same number of events, already
 * parsed, four deliveries at a time as the function works on four records at a time.
 */
async function storeVsFloor(client: DynamoDBClient, endpoint: string): Promise<StoreThroughput> {
  const deliveries = QUICK ? 8 : 20;
  const rounds = QUICK ? 1 : 3;
  const next = generatedDeliveries(50);
  const times = { function: 0, floor: 0 };
  let floorRetries = 0;
  const runFunction = async (n: number) => {
    const table = `okta-events-bench-store-${n}`;
    await ensureTable(client, table);
    const config: Config = loadConfig({
      STAGE: 'local',
      EVENTS_TABLE: table,
      AWS_REGION: 'us-east-1',
      DYNAMODB_ENDPOINT: endpoint,
    });
    const store = new DeliveryStore(client, table);
    for (let i = 0; i < deliveries; i++) await store.record(receivedDelivery(next()));
    times.function += await quietly(() =>
      timed(async () => {
        const runner = await startStreamRunner({
          client,
          endpoint,
          region: 'us-east-1',
          tableName: table,
          invoke: inProcessInvoker(
            { store: createStoreHandler({ config }) as StreamHandler },
            120_000,
          ),
          pollMs: 10,
        });
        await runner.idle();
        await runner.stop();
        if (runner.failures.length > 0) throw new Error('the store function gave up a batch');
      }),
    );
  };
  const runFloor = async (n: number) => {
    const table = `okta-events-bench-floor-${n}`;
    await ensureTable(client, table);
    const events = new EventStore(client, table);
    const receivedAt = new Date();
    const parsed = Array.from({ length: deliveries }, () => parseDelivery(Buffer.from(next())));
    times.floor += await timed(async () => {
      const queue = parsed.values();
      const worker = async () => {
        for (const delivery of queue) {
          // Retried as the stream retries the function: a busy DynamoDB Local can time out.
          for (let attempt = 1; ; attempt++) {
            try {
              await events.storeEvents(delivery.events, {
                origin: 'hook',
                deliveryId: delivery.eventId,
                receivedAt: receivedAt.toISOString(),
                expiresAt: expiryFor(receivedAt, 90),
              });
              break;
            } catch (error) {
              if (attempt >= 5) throw error;
              floorRetries++;
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
    });
  };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      await runFunction(round);
      await runFloor(round);
    } else {
      await runFloor(round);
      await runFunction(round);
    }
  }
  if (floorRetries > 0)
    log(`  the floor retried ${floorRetries} deliveries (DynamoDB Local timed out)`);
  const eventsPerRound = deliveries * 50;
  const functionRate = (rounds * eventsPerRound) / (times.function / 1000);
  const floorRate = (rounds * eventsPerRound) / (times.floor / 1000);
  return {
    deliveries,
    eventsPerDelivery: 50,
    rounds,
    functionEventsPerSecond: round(functionRate, 0),
    floorEventsPerSecond: round(floorRate, 0),
    ratio: round(functionRate / floorRate),
  };
}

function memorySizeMb(): number {
  const yaml = parseYaml(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8'), {
    logLevel: 'silent',
  }) as { provider: { memorySize: number } };
  return yaml.provider.memorySize;
}

function table(rows: Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((r) => columns.map((c) => String(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main() {
  const started = Date.now();
  log('cold start: bundling and loading each function (fresh processes, interleaved)');
  const bundles = await measureColdStart(QUICK ? 5 : 15);
  const verify = bundles.find((b) => b.name === 'verify')!;
  if (verify.hasDynamoDbClient) throw new Error('the verify bundle contains the DynamoDB client');
  const withSsm = bundles.filter((b) => b.hasSsmClient).map((b) => b.name);
  if (withSsm.length > 0) throw new Error(`the SSM client is bundled in ${withSsm.join(', ')}`);
  const floorBundle = bundles.find((b) => b.name === DYNAMODB_FLOOR)!;
  const receiveBundle = bundles.find((b) => b.name === 'receive')!;

  const benchTable = 'okta-events-bench';
  const startDb = async () => {
    const local = await startDynamoDbLocal({ port: await freePort() });
    const dbClient = createDynamoDbClient(
      { region: 'us-east-1', dynamodbEndpoint: local.endpoint },
      { requestTimeoutMs: 30_000 }, // the floors' writes on a busy machine; the handler has its own
    );
    await ensureTable(dbClient, benchTable);
    await ensureTable(dbClient, DEFAULT_TABLE_NAME);
    return { local, dbClient };
  };
  let { local: db, dbClient: client } = await startDb();
  /**
   * DynamoDB Local in memory slows down as it fills: a 500-byte PutItem took 28 ms on a fresh
   * instance and 200-250 ms on the one the sections before the end-to-end one had filled (same
   * machine, same minute), which stalled that section. Each heavy section gets a fresh one.
   */
  const freshDb = async () => {
    client.destroy();
    await db.stop();
    ({ local: db, dbClient: client } = await startDb());
  };
  try {
    log('answer time: handler vs its one write, in-process, DynamoDB Local');
    const answers = await quietly(() => answerInProcess(client, benchTable));

    log('write strategies of the store function: 50-event deliveries');
    const strategies = await writeStrategies(client, benchTable);

    log('store function vs floor: in-process, through the stream runner');
    await freshDb();
    const storeThroughput = await storeVsFloor(client, db.endpoint);

    log('end to end: serverless offline (and its stream) vs minimal node http');
    await freshDb();
    const e2e: EndToEndFigures = await measureEndToEnd({
      client,
      dynamodbEndpoint: db.endpoint,
      sizes: [...SIZES],
      perRound: QUICK ? { 1: 2, 50: 2, 500: 1, 2000: 1 } : { 1: 4, 50: 4, 500: 2, 2000: 1 },
      rounds: QUICK ? 2 : 8,
      burst: { deliveries: QUICK ? 20 : 100, events: 50, concurrency: 4 },
    });

    const wcu = sampleWriteUnits();
    const perSize: DeliveryUnits[] = [
      wcu.sampleDelivery,
      ...SIZES.filter((n) => n > 1).map((n) => deliveryUnits(generatedDeliveries(n)())),
    ];
    const reported = await reportedCapacity(client, benchTable);
    const memory = memorySizeMb();
    const receiveMs = (n: number) => answers.find((r) => r.events === n)!.handlerP50Ms;
    const storeMs = (n: number) => e2e.sequential.find((r) => r.events === n)!.storeP50Ms;
    const costs = [1, 50].map((n) =>
      monthlyCost(
        wcu,
        perSize.find((d) => d.eventsPerDelivery === n)!,
        receiveMs(n),
        storeMs(n),
        memory,
      ),
    );

    const one = answers.find((r) => r.events === 1)!;
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage: loadavg().map((n) => round(n)),
      quick: QUICK,
      answerInProcess: answers,
      answerP50Ratio500To1: answers.find((r) => r.events === 500)!.handlerP50Ms / one.handlerP50Ms,
      writeStrategies: strategies,
      storeThroughput,
      endToEnd: e2e,
      coldStart: bundles,
      receiveLoadVsDynamoDbFloor: round(receiveBundle.loadMsMedian / floorBundle.loadMsMedian),
      writeUnits: wcu,
      writeUnitsPerDelivery: perSize,
      dynamoDbLocalReportedCapacity: reported,
      monthlyCost: { prices: PRICES, memoryMb: memory, scenarios: costs },
      seconds: Math.round((Date.now() - started) / 1000),
    };

    const s = wcu.sampleDelivery;
    const out = [
      '',
      'Answer time, in-process (warm handler vs its one write; DynamoDB Local; ms)',
      table(answers as unknown as Record<string, unknown>[]),
      '',
      'Answer time, end to end (one delivery at a time; serverless offline vs minimal node http making the same write; ms)',
      table(
        e2e.sequential.map((r) => ({
          events: r.events,
          samples: r.samples,
          'offline p50': r.offlineP50Ms,
          'offline p99': r.offlineP99Ms,
          'minimal p50': r.minimalP50Ms,
          'minimal p99': r.minimalP99Ms,
          'p50 vs minimal': r.p50VsMinimal,
          'p50 vs 1 event': r.p50VsOneEvent,
          '503s': r.status503,
        })),
      ),
      '',
      '204 to stored, end to end (the stream runner invoking the store function through serverless offline; ms)',
      table(
        e2e.sequential.map((r) => ({
          events: r.events,
          samples: r.samples,
          'lag p50': r.lagP50Ms,
          'lag p99': r.lagP99Ms,
          'store p50 (in the function)': r.storeP50Ms,
          'events/s p50': r.events > 1 ? round((r.events / r.storeP50Ms) * 1000, 0) : '-',
        })),
      ),
      '',
      `Burst: ${e2e.burst.deliveries} deliveries of ${e2e.burst.events} events, ${e2e.burst.concurrency} at a time, through serverless offline`,
      table([e2e.burst as unknown as Record<string, unknown>]),
      '',
      `Store function vs floor (in-process; ${storeThroughput.deliveries} deliveries of 50 events a round, ${storeThroughput.rounds} rounds)`,
      table([storeThroughput as unknown as Record<string, unknown>]),
      '',
      'Write strategy of the store function (50-event deliveries, one at a time)',
      table(strategies as unknown as Record<string, unknown>[]),
      '',
      'Cold start (esbuild as serverless.yml; median module load of fresh processes)',
      table(
        bundles.map((b) => ({
          bundle: b.name,
          kB: Math.round(b.bytes / 1024),
          'map kB': Math.round(b.sourceMapBytes / 1024),
          'dynamodb client': b.hasDynamoDbClient ? 'yes' : 'no',
          'load ms (source maps)': b.loadMsMedian,
          'load ms (none)': b.loadMsMedianNoSourceMaps,
          'load / DynamoDB floor': b.loadVsDynamoDbFloor,
        })),
      ),
      '',
      `Write units per event (store function; sample user.session.start, ${wcu.eventItemBytes} B item): event ${wcu.eventItem} + byTime ${wcu.byTime} + byType ${wcu.byType} + ${wcu.linkItems} links ${wcu.links} = ${wcu.perEvent} WRU, and ${wcu.readUnitsPerEvent} RRU (existence check)`,
      `Write units per delivery (sample, ${s.bodyBytes} B body, ${s.headBytes} B head): head ${s.headPut} + byTime ${s.byTime} + status update ${s.statusUpdate} = ${s.perDelivery} WRU; a one-event delivery end to end: ${wcu.endToEndPerSampleEvent} WRU`,
      `The event JSON is stored gzipped when that saves a unit: as text the item would be ${wcu.textEventItemBytes} B, ${wcu.textEventItem} WRU instead of ${wcu.eventItem}`,
      table(
        perSize.map((d) => ({
          events: d.eventsPerDelivery,
          'body kB': round(d.bodyBytes / 1024, 1),
          'head kB': round(d.headBytes / 1024, 1),
          'head put': d.headPut,
          byTime: d.byTime,
          'status update': d.statusUpdate,
          'WRU per delivery': d.perDelivery,
          'per event': round(d.perDelivery / d.eventsPerDelivery, 2),
          'per event end to end': round(wcu.perEvent + d.perDelivery / d.eventsPerDelivery, 2),
        })),
      ),
      `DynamoDB Local's ReturnConsumedCapacity: head put ${JSON.stringify(reported.head ?? 'not reported')}, event put ${JSON.stringify(reported.event ?? 'not reported')}, status update ${JSON.stringify(reported.update ?? 'not reported')}`,
      '',
      `Monthly cost at 400,000 events/day (${PRICES.region}, prices ${PRICES.priceListDate}; Lambda arm64 ${memory} MB billed at the measured p50s: receive in-process, store in the function)`,
      table(costs as unknown as Record<string, unknown>[]),
      '',
      `Load average at the end: ${results.loadAverage.join(', ')} (${results.cpus} cores); ${results.seconds} s`,
      '',
    ].join('\n');
    console.log(out);
    if (args.json) {
      mkdirSync(dirname(args.out), { recursive: true });
      writeFileSync(args.out, JSON.stringify(results, null, 2) + '\n');
      log(`wrote ${args.out}`);
    }
  } finally {
    client.destroy();
    await db.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
