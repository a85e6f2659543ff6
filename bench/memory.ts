/**
 * Memory of the deployed functions that handle deliveries: bundles handlers/receive.ts and
 * handlers/store.ts as `serverless package` does (esbuild, minified, source maps) and runs each in
 * a fresh Node process against DynamoDB Local, printing its peak RSS and heap. Lambda's "Max
 * Memory Used" is the same process-wide figure, so it chooses `memorySize`.
 *
 * - receive: deliveries of 50 sample events, then of 2,000 (a 4.7 MB body), one at a time;
 * - store: the stream events Lambda would hand it for those deliveries, batches of 10 records
 *   (serverless.yml's batchSize), built from the delivery records the receive run wrote.
 *
 * Run: npm run bench:memory [-- --deliveries N] [-- --large N]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import type { DynamoDBRecord } from 'aws-lambda';
import { freePort, startDynamoDbLocal } from '../lib/local/local-stack';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';
import { imageFromItem } from '../lib/stream/stream-batch';
import { allItems } from '../test/helpers/dynamodb';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    deliveries: { type: 'string', default: '200' },
    large: { type: 'string', default: '10' },
  },
});
const DELIVERIES = Number(values.deliveries);
const LARGE = Number(values.large);
const SECRET = 'Basic YmVuY2g6YmVuY2g=';
const TABLE = 'okta-events-memory';
/** serverless.yml: the store function's batchSize. */
const BATCH_SIZE = 10;

/** Runs in the child: the bundled handler, as the Lambda runtime would call it. */
const CHILD = `
const { randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
console.log = () => {}; // the handler's log lines
const { handler } = require(process.env.BUNDLE);
const mb = (n) => Math.round(n / 1048576);
const afterLoad = process.memoryUsage();
let peakHeap = 0;
const sample = require(process.env.SAMPLE).data.events[0];

async function receive(deliveries, events) {
  for (let i = 0; i < deliveries; i++) {
    const batch = Array.from({ length: events }, () => ({ ...sample, uuid: randomUUID() }));
    const body = JSON.stringify({ eventType: 'com.okta.event_hook', eventId: randomUUID(), data: { events: batch } });
    const response = await handler({
      version: '2.0', rawPath: '/okta-webhooks-endpoint', body, isBase64Encoded: false,
      headers: { 'content-type': 'application/json', authorization: process.env.OKTA_AUTH_SECRET },
      requestContext: { requestId: String(i), http: { method: 'POST', sourceIp: '127.0.0.1' } },
    });
    if (response.statusCode !== 204) throw new Error('status ' + response.statusCode + ' ' + response.body);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
}

async function store() {
  const context = { getRemainingTimeInMillis: () => 120000 };
  for (const line of readFileSync(process.env.EVENTS_FILE, 'utf8').split('\\n')) {
    if (!line) continue;
    const response = await handler(JSON.parse(line), context);
    if (response.batchItemFailures.length > 0) throw new Error('failed: ' + JSON.stringify(response));
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
}

(async () => {
  if (process.env.FUNCTION === 'store') await store();
  else await receive(Number(process.env.DELIVERIES), Number(process.env.EVENTS));
  process.stderr.write(JSON.stringify({
    rssAfterLoadMb: mb(afterLoad.rss),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapUsedMb: mb(peakHeap),
  }));
})().catch((e) => { process.stderr.write(String(e)); process.exitCode = 1; });
`;

interface Peak {
  rssAfterLoadMb: number;
  peakRssMb: number;
  peakHeapUsedMb: number;
}

async function runChild(bundle: string, env: Record<string, string>): Promise<Peak> {
  const child = spawn(process.execPath, ['--enable-source-maps', '-e', CHILD], {
    env: {
      ...process.env,
      BUNDLE: bundle,
      SAMPLE: join(PROJECT_ROOT, 'test/fixtures/delivery-user.session.start.json'),
      EVENTS_TABLE: TABLE,
      OKTA_AUTH_SECRET: SECRET,
      STAGE: 'local',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let result = '';
  child.stderr.on('data', (d: Buffer) => (result += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the measuring process failed: ${result}`);
  return JSON.parse(result) as Peak;
}

async function main() {
  const out = mkdtempSync(join(tmpdir(), 'okta-hooks-memory-'));
  const db = await startDynamoDbLocal({ port: await freePort() });
  const client = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: db.endpoint },
    { requestTimeoutMs: 30_000 },
  );
  try {
    await ensureTable(client, TABLE);
    const bundles: Record<string, string> = {};
    for (const name of ['receive', 'store']) {
      bundles[name] = join(out, `${name}.js`);
      await build({
        entryPoints: [join(PROJECT_ROOT, `handlers/${name}.ts`)],
        outfile: bundles[name],
        bundle: true,
        minify: true,
        sourcemap: true,
        platform: 'node',
        target: 'node24',
      });
    }
    const env = { DYNAMODB_ENDPOINT: db.endpoint };
    const receive50 = await runChild(bundles.receive!, {
      ...env,
      DELIVERIES: String(DELIVERIES),
      EVENTS: '50',
    });
    const receive2000 = await runChild(bundles.receive!, {
      ...env,
      DELIVERIES: String(LARGE),
      EVENTS: '2000',
    });

    // What Lambda would hand the store function: the delivery records' INSERTs, 10 a batch.
    const heads = (await allItems(client, TABLE))
      .filter((i) => i.itemType?.S === 'delivery')
      .sort((a, b) => a.timeKey!.S!.localeCompare(b.timeKey!.S!));
    const records: DynamoDBRecord[] = heads.map((head, i) => ({
      eventID: String(i),
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        Keys: imageFromItem({ pk: head.pk!, sk: head.sk! }),
        NewImage: imageFromItem(head),
        SequenceNumber: String(1000 + i),
        StreamViewType: 'NEW_IMAGE',
      },
    }));
    const lines: string[] = [];
    for (let i = 0; i < records.length; i += BATCH_SIZE) {
      lines.push(JSON.stringify({ Records: records.slice(i, i + BATCH_SIZE) }));
    }
    const eventsFile = join(out, 'stream-events.jsonl');
    writeFileSync(eventsFile, lines.join('\n') + '\n');
    const store = await runChild(bundles.store!, {
      ...env,
      FUNCTION: 'store',
      EVENTS_FILE: eventsFile,
    });
    const stored = (await allItems(client, TABLE)).filter(
      (i) => i.itemType?.S === 'delivery' && i.status?.S === 'stored',
    ).length;
    if (stored !== heads.length) throw new Error(`${stored} of ${heads.length} deliveries stored`);

    const baseline = await new Promise<string>((resolve) => {
      const idle = spawn(process.execPath, [
        '-e',
        'process.stdout.write(String(Math.round(process.resourceUsage().maxRSS / 1024)))',
      ]);
      let text = '';
      idle.stdout.on('data', (d: Buffer) => (text += d.toString()));
      idle.on('close', () => resolve(text));
    });
    console.log(
      JSON.stringify({
        node: process.version,
        idleNodeRssMb: Number(baseline),
        receive: {
          [`${DELIVERIES} deliveries of 50 events`]: receive50,
          [`${LARGE} deliveries of 2000 events`]: receive2000,
        },
        store: {
          [`${Math.ceil(heads.length / BATCH_SIZE)} batches of up to ${BATCH_SIZE} of those deliveries`]:
            store,
        },
      }),
    );
  } finally {
    client.destroy();
    await db.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
