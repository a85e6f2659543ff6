/**
 * Warm delivery latency through a real `serverless offline` and DynamoDB Local, for deliveries
 * of 1 and of 50 events, sent one after another. Prints p50/p99 measured in one run.
 * Run: npx tsx bench/offline-latency.ts [--requests N]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_TABLE_NAME } from '../lib/config';
import { createDynamoDbClient } from '../lib/dynamodb';
import { freePort, startDynamoDbLocal, startServerlessOffline } from '../lib/local-stack';
import { ensureTable } from '../lib/table-definition';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const SECRET = 'Basic YmVuY2g6YmVuY2g=';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function body(events: number): string {
  const now = Date.now();
  return JSON.stringify({
    eventType: 'com.okta.event_hook',
    eventTypeVersion: '1.0',
    source: 'https://bench.okta.com/api/v1/eventHooks/bench',
    eventId: randomUUID(),
    eventTime: new Date(now).toISOString(),
    data: {
      events: Array.from({ length: events }, (_, i) => ({
        uuid: randomUUID(),
        published: new Date(now - i).toISOString(),
        eventType: 'user.session.start',
        version: '0',
        severity: 'INFO',
        displayMessage: 'User login to Okta',
        actor: {
          id: '00ub0oNGTSWTBKOLGLNR',
          type: 'User',
          alternateId: 'jane.doe@example.com',
          displayName: 'Jane Doe',
        },
        outcome: { result: 'SUCCESS', reason: null },
        target: [
          {
            id: '0oa1',
            type: 'AppInstance',
            alternateId: 'Okta Admin Console',
            displayName: 'Okta Admin Console',
          },
        ],
        client: {
          ipAddress: '203.0.113.7',
          userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
        },
      })),
    },
  });
}

async function main() {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '100' } } });
  const requests = Number(values.requests);
  const dynamo = await startDynamoDbLocal({ port: await freePort() });
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint });
  await ensureTable(client, DEFAULT_TABLE_NAME);
  client.destroy();
  const offline = await startServerlessOffline({
    httpPort: await freePort(),
    env: { ...process.env, OKTA_AUTH_SECRET: SECRET, DYNAMODB_ENDPOINT: dynamo.endpoint },
  });
  const url = `${offline.url}/okta-webhooks-endpoint`;
  const headers = { 'content-type': 'application/json', authorization: SECRET };
  try {
    const rows: string[] = [];
    for (const events of [1, 50]) {
      for (let i = 0; i < 10; i++)
        await fetch(url, { method: 'POST', headers, body: body(events) }); // warm-up
      const times: number[] = [];
      for (let i = 0; i < requests; i++) {
        const payload = body(events);
        const started = performance.now();
        const response = await fetch(url, { method: 'POST', headers, body: payload });
        await response.arrayBuffer();
        times.push(performance.now() - started);
        if (response.status !== 204) throw new Error(`status ${response.status}`);
      }
      times.sort((a, b) => a - b);
      rows.push(
        `${String(events).padStart(6)}  ${String(requests).padStart(8)}  ${percentile(times, 50).toFixed(1).padStart(7)}  ${percentile(times, 99).toFixed(1).padStart(7)}`,
      );
    }
    console.log('events  requests  p50 ms  p99 ms');
    console.log(rows.join('\n'));
  } finally {
    await offline.stop();
    await dynamo.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
