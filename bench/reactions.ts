/**
 * `npm run bench:reactions`: the forward reaction to a local Standard Webhooks receiver.
 *
 * 1. Latency: single-event deliveries one at a time through serverless offline, as `npm start`
 *    runs it: the time from the receiver's 204 to the forwarded event's acknowledgement
 *    (receive → stream → store → stream → react → POST), p50/p99.
 * 2. Throughput: a burst of 50-event deliveries, 4 at a time: events forwarded per second from
 *    the first send to the last acknowledgement, and the same 204 → forward times under load.
 * 3. The react handler alone, in-process on DynamoDB Local (no serverless offline, no stream
 *    polling): events per second through claim, POST and outcome, 10 a batch.
 *
 * Locally the stream runner polls every 50 ms per consumer; Lambda polls a shard's stream about
 * four times a second per mapping, so deployed figures carry up to ~250 ms per stream hop more.
 * Options: --quick (fewer samples), --json [--out FILE] (default bench/results/reactions.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DynamoDBRecord } from 'aws-lambda';
import { loadConfig } from '../lib/config';
import { deliver } from '../lib/okta-simulator/deliver';
import { EVENT_TYPES, oktaEvent } from '../lib/okta-simulator/events';
import { type WebhookReceiver, startWebhookReceiver } from '../lib/okta-simulator/receive';
import { planSend } from '../lib/okta-simulator/send';
import { OutcomeStore } from '../lib/reactions/outcomes';
import { createReactHandler } from '../lib/reactions/react-stream';
import { eventItem } from '../lib/store/event-items';
import { EventStore } from '../lib/store/event-store';
import { PROJECT_ROOT } from '../lib/store/table-definition';
import { imageFromItem } from '../lib/stream/stream-batch';
import { startTestStack } from '../test/helpers/offline';
import { percentile, round } from './stats';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    out: { type: 'string', default: join(PROJECT_ROOT, 'bench/results/reactions.json') },
    quick: { type: 'boolean', default: false },
  },
});
const QUICK = args.quick;
const OKTA_SECRET = 'Basic YmVuY2g6cmVhY3Rpb25z';
const FORWARD_SECRET =
  'whsec_' + Buffer.from('bench forward secret: 32 bytes!!').toString('base64');

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

function table(rows: Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((r) => columns.map((c) => String(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function waitFor(predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the forwards');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function lagFigures(lags: number[]) {
  return {
    samples: lags.length,
    p50Ms: Math.round(percentile(lags, 50)),
    p99Ms: Math.round(percentile(lags, 99)),
  };
}

async function throughStack(receiver: WebhookReceiver, acknowledgedAt: Map<string, number>) {
  const stack = await startTestStack({
    OKTA_AUTH_SECRET: OKTA_SECRET,
    FORWARD_URL: receiver.url,
    FORWARD_SECRET,
    LOG_FORMAT: 'json',
  });
  try {
    // serverless offline builds and loads each function on first use.
    const warm = planSend({ types: EVENT_TYPES, count: 8, perRequest: 1, duplicates: 0 });
    for (const r of warm)
      await deliver(stack.url, r.body, { secret: OKTA_SECRET, timeoutMs: 60_000 });
    await stack.streams.idle();

    log('latency: single-event deliveries, one at a time');
    const single = planSend({
      types: EVENT_TYPES,
      count: QUICK ? 40 : 200,
      perRequest: 1,
      duplicates: 0,
    });
    const idleLags: number[] = [];
    for (const request of single) {
      const result = await deliver(stack.url, request.body, { secret: OKTA_SECRET });
      const accepted = Date.now();
      if (result.outcome !== 'accepted') throw new Error(`delivery ${result.outcome}`);
      const uuid = request.uuids[0]!;
      await waitFor(() => acknowledgedAt.has(uuid), 60_000);
      idleLags.push(acknowledgedAt.get(uuid)! - accepted);
    }

    log('throughput: 50-event deliveries, 4 at a time');
    const burst = planSend({
      types: EVENT_TYPES,
      count: QUICK ? 400 : 2000,
      perRequest: 50,
      duplicates: 0,
    });
    const acceptedAt = new Map<string, number>();
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < burst.length) {
          const request = burst[next++]!;
          let result = await deliver(stack.url, request.body, { secret: OKTA_SECRET });
          // Okta gives up after one retry; the benchmark wants every event, so it sends again.
          while (result.outcome !== 'accepted') {
            result = await deliver(stack.url, request.body, { secret: OKTA_SECRET });
          }
          const now = Date.now();
          for (const uuid of request.uuids) acceptedAt.set(uuid, now);
        }
      }),
    );
    const uuids = burst.flatMap((r) => r.uuids);
    await waitFor(() => uuids.every((uuid) => acknowledgedAt.has(uuid)), 600_000);
    const seconds = (Math.max(...uuids.map((u) => acknowledgedAt.get(u)!)) - started) / 1000;
    const loadedLags = uuids.map((uuid) => acknowledgedAt.get(uuid)! - acceptedAt.get(uuid)!);
    await stack.streams.idle();
    return {
      idle: lagFigures(idleLags),
      burst: {
        events: uuids.length,
        seconds: round(seconds, 1),
        eventsPerSecond: Math.round(uuids.length / seconds),
        ...lagFigures(loadedLags),
      },
      failures: stack.failures.length,
    };
  } finally {
    await stack.stop();
  }
}

/** The react handler in-process: batches of 10 stream records, one invocation after another. */
async function inProcess(receiver: WebhookReceiver) {
  const { startTestDynamoDb } = await import('../test/helpers/dynamodb');
  const db = await startTestDynamoDb();
  try {
    const table = await db.newTable();
    const config = loadConfig({
      STAGE: 'local',
      EVENTS_TABLE: table,
      DYNAMODB_ENDPOINT: db.local.endpoint,
      FORWARD_URL: receiver.url,
      FORWARD_SECRET,
    });
    const handler = createReactHandler({
      config,
      quiet: true,
      outcomes: new OutcomeStore(db.client, table),
    });
    const count = QUICK ? 200 : 1000;
    const origin = {
      origin: 'hook' as const,
      receivedAt: new Date().toISOString(),
      expiresAt: undefined,
    };
    const parsed = Array.from({ length: count }, (_, i) => {
      const event = oktaEvent(EVENT_TYPES[i % EVENT_TYPES.length]!);
      return { event, rawJson: JSON.stringify(event) };
    });
    await new EventStore(db.client, table).storeEvents(parsed, origin);
    const records = parsed.map((p, i): DynamoDBRecord => {
      const item = eventItem(p, origin)!;
      return {
        eventName: 'INSERT',
        dynamodb: {
          Keys: imageFromItem({ pk: item.pk!, sk: item.sk! }),
          NewImage: imageFromItem(item),
          SequenceNumber: String(i + 1),
        },
      };
    });
    const context = { getRemainingTimeInMillis: () => 120_000 };
    const batches: DynamoDBRecord[][] = [];
    for (let i = 0; i < records.length; i += 10) batches.push(records.slice(i, i + 10));
    await handler({ Records: batches.shift()! }, context); // warm: clients, connections
    const invocationMs: number[] = [];
    const started = performance.now();
    for (const batch of batches) {
      const t0 = performance.now();
      const response = await handler({ Records: batch }, context);
      invocationMs.push(performance.now() - t0);
      if (response.batchItemFailures.length > 0) throw new Error('a forward failed');
    }
    const seconds = (performance.now() - started) / 1000;
    const events = batches.length * 10;
    return {
      events,
      eventsPerSecond: Math.round(events / seconds),
      invocationP50Ms: round(percentile(invocationMs, 50), 1),
      invocationP99Ms: round(percentile(invocationMs, 99), 1),
    };
  } finally {
    await db.stop();
  }
}

async function main() {
  const started = Date.now();
  const acknowledgedAt = new Map<string, number>();
  const receiver = await startWebhookReceiver({
    port: 0,
    secret: FORWARD_SECRET,
    onLine: () => undefined,
    onAcknowledged: (id) => acknowledgedAt.set(id, Date.now()),
  });
  const realLog = console.log;
  try {
    console.log = () => undefined; // the handlers' own lines (in-process part)
    log('in-process: the react handler on DynamoDB Local');
    const handler = await inProcess(receiver);
    console.log = realLog;
    log('through serverless offline and the stream, as npm start runs it');
    const stack = await throughStack(receiver, acknowledgedAt);
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage: loadavg().map((n) => round(n)),
      quick: QUICK,
      inProcessReactHandler: handler,
      endToEnd: stack,
      signaturesNotVerified: receiver.stats.rejected,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(
      [
        '',
        'The react handler alone (in-process, DynamoDB Local, forward to a local receiver; 10 events an invocation)',
        table([handler]),
        '',
        'From the 204 to the forward (serverless offline, the stream runner as npm start runs it)',
        table([
          { traffic: 'one delivery at a time, 1 event', ...stack.idle },
          {
            traffic: `burst: ${stack.burst.events} events, 50 a delivery, 4 at a time`,
            samples: stack.burst.samples,
            p50Ms: stack.burst.p50Ms,
            p99Ms: stack.burst.p99Ms,
          },
        ]),
        `burst: ${stack.burst.eventsPerSecond} events forwarded per second (${stack.burst.events} in ${stack.burst.seconds} s, first send to last acknowledgement)`,
        `signatures the receiver could not verify: ${receiver.stats.rejected}; batches given up: ${stack.failures}`,
        `machine: ${results.cpus} cpus, load average ${results.loadAverage.join(' ')}`,
        '',
      ].join('\n'),
    );
    if (args.json) {
      mkdirSync(dirname(args.out), { recursive: true });
      writeFileSync(args.out, JSON.stringify(results, null, 2) + '\n');
      log(`wrote ${args.out}`);
    }
  } finally {
    console.log = realLog;
    await receiver.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
