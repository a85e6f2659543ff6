/**
 * `npm run bench`: the receiver against the floor of its own DynamoDB writes, the write strategy
 * against an idempotent alternative, end to end through serverless offline, cold start and cost.
 * Every comparison is measured inside one run with the variants interleaved (the machine is
 * shared and noisy): only the ratios travel to other machines, not the milliseconds.
 * `npm run bench -- --json` also writes the figures to bench/results/latest.json (git-ignored).
 * Options: --quick (fewer samples, for trying it out), --json [--out FILE].
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_TABLE_NAME, loadConfig } from '../lib/config';
import { createDeliveryHandler } from '../lib/webhook/delivery-endpoint';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { EventStore } from '../lib/store/event-store';
import { freePort, startDynamoDbLocal } from '../lib/local/local-stack';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';
import { v2Event } from '../test/helpers/api-gateway';
import { measureColdStart } from './cold-start';
import { PRICES, monthlyCost, reportedCapacity, sampleWriteUnits } from './cost';
import { BENCH_SECRET, measureEndToEnd } from './end-to-end';
import { percentile, round, timed } from './stats';
import { conditionalPuts, deliveryBody, transactions, writePlan } from './workload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    out: { type: 'string', default: join(PROJECT_ROOT, 'bench/results/latest.json') },
    quick: { type: 'boolean', default: false },
  },
});
const QUICK = args.quick;

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

interface LatencyRow {
  events: number;
  samples: number;
  handlerP50Ms: number;
  handlerP99Ms: number;
  floorP50Ms: number;
  floorP99Ms: number;
  p50Ratio: number;
  p99Ratio: number;
}

/**
 * The warm handler (real EventStore, DynamoDB Local) invoked in-process with HTTP API events,
 * against the same writes issued directly; pairs alternate which goes first.
 */
async function handlerVsFloor(client: DynamoDBClient, table: string): Promise<LatencyRow[]> {
  const config = loadConfig({
    STAGE: 'local',
    EVENTS_TABLE: table,
    OKTA_AUTH_SECRET: BENCH_SECRET,
    AWS_REGION: 'us-east-1',
  });
  const handler = createDeliveryHandler({ config, store: new EventStore(client, table) });
  const headers = { 'content-type': 'application/json', authorization: BENCH_SECRET };
  const invoke = async (body: string) => {
    const response = await handler(v2Event({ method: 'POST', headers, body }));
    if (response.statusCode !== 204) throw new Error(`handler answered ${response.statusCode}`);
  };
  const floor = async (body: string) => {
    const plan = writePlan(body); // outside the timing: the floor is the writes alone
    return timed(() => conditionalPuts(client, table, plan));
  };

  const rows: LatencyRow[] = [];
  for (const events of [1, 10, 50]) {
    const samples = QUICK ? 20 : events === 50 ? 120 : 200;
    for (let i = 0; i < 5; i++) {
      await invoke(deliveryBody(events));
      await floor(deliveryBody(events));
    }
    const handlerMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const handlerBody = deliveryBody(events);
      const floorBody = deliveryBody(events);
      const runHandler = async () => handlerMs.push(await timed(() => invoke(handlerBody)));
      const runFloor = async () => floorMs.push(await floor(floorBody));
      if (i % 2 === 0) {
        await runHandler();
        await runFloor();
      } else {
        await runFloor();
        await runHandler();
      }
    }
    const h50 = percentile(handlerMs, 50);
    const h99 = percentile(handlerMs, 99);
    const f50 = percentile(floorMs, 50);
    const f99 = percentile(floorMs, 99);
    rows.push({
      events,
      samples,
      handlerP50Ms: round(h50, 1),
      handlerP99Ms: round(h99, 1),
      floorP50Ms: round(f50, 1),
      floorP99Ms: round(f99, 1),
      p50Ratio: round(h50 / f50),
      p99Ratio: round(h99 / f99),
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

/** 50-event deliveries, one after another, strategies alternating in rounds. */
async function writeStrategies(client: DynamoDBClient, table: string): Promise<StrategyRow[]> {
  const strategies = {
    'conditional PutItem x16 (receiver)': conditionalPuts,
    'TransactWriteItems (100/transaction)': transactions,
  };
  const rounds = QUICK ? 2 : 6;
  const perRound = QUICK ? 5 : 10;
  const totals = new Map(Object.keys(strategies).map((s) => [s, { events: 0, ms: 0 }]));
  const checks = new Map<string, string>();
  for (const [name, write] of Object.entries(strategies)) {
    // Idempotency check: a redelivery stores nothing, a half-duplicate delivery stores the rest.
    const first = writePlan(deliveryBody(50));
    await write(client, table, first);
    const again = await write(client, table, writePlan(reencode(first)));
    checks.set(name, again === 0 ? 'redelivery stored 0 of 50' : `redelivery stored ${again}!`);
    await write(client, table, writePlan(deliveryBody(50))); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    const order = Object.entries(strategies);
    if (round % 2 === 1) order.reverse();
    for (const [name, write] of order) {
      const plans = Array.from({ length: perRound }, () => writePlan(deliveryBody(50)));
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

/** The same delivery's body again (a redelivery). */
function reencode(plan: ReturnType<typeof writePlan>): string {
  return JSON.stringify({
    eventType: 'com.okta.event_hook',
    eventId: plan.delivery.eventId,
    data: { events: plan.delivery.events.map((e) => e.event) },
  });
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

  const db = await startDynamoDbLocal({ port: await freePort() });
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.endpoint });
  const realLog = console.log;
  try {
    const benchTable = 'okta-events-bench';
    await ensureTable(client, benchTable);
    await ensureTable(client, DEFAULT_TABLE_NAME);

    log('handler vs floor: in-process, DynamoDB Local');
    console.log = () => undefined; // the handler's log and metrics lines (still formatted)
    const latency = await handlerVsFloor(client, benchTable);
    console.log = realLog;

    log('write strategies: 50-event deliveries');
    const strategies = await writeStrategies(client, benchTable);

    log('end to end: autocannon, serverless offline vs minimal node http');
    const e2e = await measureEndToEnd({
      dynamodbEndpoint: db.endpoint,
      events: 50,
      amount: QUICK ? 40 : 150,
      connections: 4,
      rounds: QUICK ? 2 : 4,
    });

    const wcu = sampleWriteUnits();
    const reported = await reportedCapacity(client, benchTable);
    const memory = memorySizeMb();
    const oneEventMs = latency.find((r) => r.events === 1)!.handlerP50Ms;
    const tenEventMs = latency.find((r) => r.events === 10)!.handlerP50Ms;
    const costs = [
      monthlyCost(wcu, 1, oneEventMs, memory),
      monthlyCost(wcu, 10, tenEventMs, memory),
    ];

    const fifty = latency.find((r) => r.events === 50)!;
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      loadAverage: (await import('node:os')).loadavg().map((n) => round(n)),
      quick: QUICK,
      handlerVsFloor: latency,
      handlerFloorP50Ratio50Events: fifty.p50Ratio,
      writeStrategies: strategies,
      endToEnd: {
        eventsPerDelivery: 50,
        connections: 4,
        ...e2e,
        deliveriesPerSecondRatio: round(
          e2e.offline.deliveriesPerSecond / e2e.minimal.deliveriesPerSecond,
        ),
        p50Ratio: round(e2e.offline.p50Ms / e2e.minimal.p50Ms),
      },
      coldStart: bundles,
      writeUnitsPerEvent: wcu,
      dynamoDbLocalReportedCapacity: reported,
      monthlyCost: { prices: PRICES, memoryMb: memory, scenarios: costs },
      seconds: Math.round((Date.now() - started) / 1000),
    };

    const out = [
      '',
      'Handler vs floor (in-process, DynamoDB Local; ms)',
      table(latency as unknown as Record<string, unknown>[]),
      '',
      'Write strategy (50-event deliveries, one at a time)',
      table(strategies as unknown as Record<string, unknown>[]),
      '',
      `End to end (autocannon, 50-event deliveries, ${results.endToEnd.connections} connections)`,
      table([e2e.offline, e2e.minimal] as unknown as Record<string, unknown>[]),
      `ratio offline/minimal: deliveries/s ${results.endToEnd.deliveriesPerSecondRatio}, p50 ${results.endToEnd.p50Ratio}`,
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
      `Write units per event (sample user.session.start, ${wcu.eventItemBytes} B item): event ${wcu.eventItem} + byTime ${wcu.byTime} + byType ${wcu.byType} + ${wcu.linkItems} links ${wcu.links} = ${wcu.perEvent} WRU; + ${wcu.deliveryRecord} per delivery`,
      `DynamoDB Local's ReturnConsumedCapacity for the event PutItem: ${JSON.stringify(reported.put ?? 'not reported')}`,
      '',
      `Monthly cost at 400,000 events/day (${PRICES.region}, prices ${PRICES.priceListDate}; Lambda arm64 ${memory} MB at the measured handler p50)`,
      table(costs as unknown as Record<string, unknown>[]),
      '',
    ].join('\n');
    console.log(out);
    if (args.json) {
      mkdirSync(dirname(args.out), { recursive: true });
      writeFileSync(args.out, JSON.stringify(results, null, 2) + '\n');
      log(`wrote ${args.out}`);
    }
  } finally {
    console.log = realLog;
    client.destroy();
    await db.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
