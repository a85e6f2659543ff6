/**
 * `npm run bench:answer`: what Okta sees. Deliveries of 1, 50, 500 and 2,000 events posted one
 * at a time to a real serverless offline (the stack `npm start` runs, with its stream runner
 * storing the events behind it), sizes interleaved in rounds so that the machine's mood touches
 * them alike. Prints the answer time per size, its ratio to a one-event delivery, the time from
 * the last 204 until every event is stored, and checks that each event was stored exactly once.
 * The stream keeps storing while later deliveries are answered: the answers are measured under
 * that load, as they would be in production.
 *
 * Options: --rounds N (default 10).
 */
import { parseArgs } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { startTestStack } from '../test/helpers/offline';
import { percentile, round } from './stats';
import { generatedDeliveries } from './workload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SECRET = 'Basic YmVuY2g6YW5zd2Vy';
const SIZES = [1, 50, 500, 2000];
/** Okta's timeout for an answer. */
const OKTA_TIMEOUT_MS = 3000;

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '10' } },
});
const ROUNDS = Number(args.rounds);

async function post(url: string, body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: SECRET },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

async function main() {
  console.error(`answer time: ${ROUNDS} rounds of ${SIZES.join(', ')}-event deliveries`);
  const stack = await startTestStack({ OKTA_AUTH_SECRET: SECRET, LOG_FORMAT: 'json' });
  try {
    const next = new Map(SIZES.map((n) => [n, generatedDeliveries(n)]));
    const uuids = new Set<string>();
    const send = async (n: number) => {
      const body = next.get(n)!();
      for (const e of (JSON.parse(body) as { data: { events: { uuid: string }[] } }).data.events)
        uuids.add(e.uuid);
      return post(stack.url, body);
    };
    for (const n of SIZES) await send(n); // serverless offline loads the function on first use
    const samples = new Map(SIZES.map((n) => [n, [] as { status: number; ms: number }[]]));
    let lastAnswer = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of r % 2 === 0 ? SIZES : [...SIZES].reverse()) {
        samples.get(n)!.push(await send(n));
        lastAnswer = performance.now();
      }
      console.error(`… round ${r + 1} of ${ROUNDS}`);
    }
    await stack.streams.idle();
    const drainMs = performance.now() - lastAnswer;

    let stored = 0;
    const seen = new Set<string>();
    let duplicated = 0;
    let start: Record<string, never> | undefined;
    do {
      const page = await stack.db.client.send(
        new ScanCommand({
          TableName: stack.tableName,
          FilterExpression: 'itemType = :e',
          ExpressionAttributeValues: { ':e': { S: 'event' } },
          ProjectionExpression: '#u',
          ExpressionAttributeNames: { '#u': 'uuid' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        stored++;
        if (seen.has(item.uuid!.S!)) duplicated++;
        seen.add(item.uuid!.S!);
      }
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
    const missing = [...uuids].filter((u) => !seen.has(u)).length;

    const one = percentile(
      samples.get(1)!.map((s) => s.ms),
      50,
    );
    console.log(
      '| events | samples | p50 ms | p99 ms | max ms | p50 / 1-event p50 | 204 | under 3 s |',
    );
    console.log(
      '| -----: | ------: | -----: | -----: | -----: | ----------------: | --: | --------: |',
    );
    for (const n of SIZES) {
      const list = samples.get(n)!;
      const ms = list.map((s) => s.ms);
      const p50 = percentile(ms, 50);
      console.log(
        `| ${n} | ${list.length} | ${round(p50, 1)} | ${round(percentile(ms, 99), 1)} | ${round(Math.max(...ms), 1)} | ${round(p50 / one)} | ${list.filter((s) => s.status === 204).length} | ${ms.filter((m) => m < OKTA_TIMEOUT_MS).length} |`,
      );
    }
    console.log(
      `\nevents sent ${uuids.size}, stored ${stored}, missing ${missing}, stored twice ${duplicated}; ` +
        `the stream finished storing ${round(drainMs / 1000, 1)} s after the last 204; ` +
        `stream batches given up ${stack.failures.length}`,
    );
    if (missing > 0 || duplicated > 0) process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
