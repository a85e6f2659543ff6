/**
 * Memory of the deployed receive function: bundles handlers/receive.ts as `serverless package`
 * does (esbuild, minified, source maps), then runs it in a fresh Node process against DynamoDB
 * Local, processing deliveries of 50 events in-process, and prints its peak RSS and heap.
 * Lambda's "Max Memory Used" is the same process-wide figure, so it chooses `memorySize`.
 * Run: npx tsx bench/memory.ts [--deliveries N]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { freePort, startDynamoDbLocal } from '../lib/local/local-stack';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { deliveries: { type: 'string', default: '200' } } });
const DELIVERIES = Number(values.deliveries);
const SECRET = 'Basic YmVuY2g6YmVuY2g=';

/** Runs in the child: the bundled handler, as the Lambda runtime would call it. */
const CHILD = `
const { randomUUID } = require('node:crypto');
const sample = require(process.env.SAMPLE).data.events[0];
console.log = () => {}; // the handler's log lines
const { handler } = require(process.env.BUNDLE);
const mb = (n) => Math.round(n / 1048576);
const afterLoad = process.memoryUsage();
(async () => {
  let peakHeap = 0;
  for (let i = 0; i < Number(process.env.DELIVERIES); i++) {
    const events = Array.from({ length: 50 }, () => ({ ...sample, uuid: randomUUID() }));
    const body = JSON.stringify({ eventType: 'com.okta.event_hook', eventId: randomUUID(), data: { events } });
    const response = await handler({
      version: '2.0', rawPath: '/okta-webhooks-endpoint', body, isBase64Encoded: false,
      headers: { 'content-type': 'application/json', authorization: process.env.OKTA_AUTH_SECRET },
      requestContext: { requestId: String(i), http: { method: 'POST', sourceIp: '127.0.0.1' } },
    });
    if (response.statusCode !== 204) throw new Error('status ' + response.statusCode + ' ' + response.body);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  process.stderr.write(JSON.stringify({
    rssAfterLoadMb: mb(afterLoad.rss),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapUsedMb: mb(peakHeap),
    bodyBytes: Buffer.byteLength(JSON.stringify({ data: { events: Array(50).fill(sample) } })),
  }));
})().catch((e) => { process.stderr.write(String(e)); process.exitCode = 1; });
`;

async function main() {
  const out = mkdtempSync(join(tmpdir(), 'okta-hooks-memory-'));
  const db = await startDynamoDbLocal({ port: await freePort() });
  try {
    const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.endpoint });
    await ensureTable(client, 'okta-events-memory');
    client.destroy();
    await build({
      entryPoints: [join(PROJECT_ROOT, 'handlers/receive.ts')],
      outfile: join(out, 'receive.js'),
      bundle: true,
      minify: true,
      sourcemap: true,
      platform: 'node',
      target: 'node22',
    });
    const child = spawn(process.execPath, ['--enable-source-maps', '-e', CHILD], {
      env: {
        ...process.env,
        BUNDLE: join(out, 'receive.js'),
        SAMPLE: join(PROJECT_ROOT, 'test/fixtures/delivery-user.session.start.json'),
        DELIVERIES: String(DELIVERIES),
        DYNAMODB_ENDPOINT: db.endpoint,
        EVENTS_TABLE: 'okta-events-memory',
        OKTA_AUTH_SECRET: SECRET,
        STAGE: 'local',
      },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let result = '';
    child.stderr.on('data', (d: Buffer) => (result += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`the measuring process failed: ${result}`);
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
        deliveries: DELIVERIES,
        eventsPerDelivery: 50,
        idleNodeRssMb: Number(baseline),
        ...JSON.parse(result),
      }),
    );
  } finally {
    await db.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
