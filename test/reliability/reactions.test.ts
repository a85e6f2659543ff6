/**
 * Reactions under the load test's traffic: Okta deliveries of 1-50 events, a fifth redelivered,
 * 20 at a time, through a real serverless offline; the stream runs store and react, and the
 * forward reaction posts every event to a Standard Webhooks receiver that fails a tenth of first
 * attempts. Afterwards every unique event was acknowledged exactly once (0 missed, 0 repeats),
 * every signature verified, and every outcome is `succeeded`.
 */
import { EVENT_TYPES } from '../../lib/okta-simulator/events';
import { deliver } from '../../lib/okta-simulator/deliver';
import { type WebhookReceiver, startWebhookReceiver } from '../../lib/okta-simulator/receive';
import { percentile, planSend } from '../../lib/okta-simulator/send';
import { freePort } from '../../lib/local/local-stack';
import { OutcomeQueries } from '../../lib/reactions/outcome-queries';
import type { OutcomeStatus } from '../../lib/reactions/outcomes';
import { type TestStack, startTestStack } from '../helpers/offline';
import { inPool, sendUntilAccepted, sentDelivery, warmUp } from './accounting';
import { profile, recordFigure } from './figures';

const SECRET = 'Basic cmVhY3Q6cmVsaWFiaWxpdHk=';
const FORWARD_SECRET =
  'whsec_' + Buffer.from('reliability forward secret, 32 b').toString('base64');
const config = profile();
let stack: TestStack;
let receiver: WebhookReceiver;
const acknowledgedAt = new Map<string, number>();

beforeAll(async () => {
  const port = await freePort();
  receiver = await startWebhookReceiver({
    port,
    secret: FORWARD_SECRET,
    fail: 0.1,
    onLine: () => undefined,
    onAcknowledged: (id) => acknowledgedAt.set(id, Date.now()),
  });
  stack = await startTestStack({
    OKTA_AUTH_SECRET: SECRET,
    FORWARD_URL: receiver.url,
    FORWARD_SECRET,
  });
  await warmUp(stack.url, SECRET, config.loadConcurrency);
  await stack.streams.idle();
}, 240_000);

afterAll(async () => {
  await receiver?.stop();
  expect(await stack?.stop()).toEqual([]);
});

/** A repeatable random sequence (mulberry32), so a failing run can be replayed. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function countOutcomes(status: OutcomeStatus): Promise<number> {
  const queries = new OutcomeQueries(stack.db.client, stack.tableName);
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await queries.list({ status, name: 'forward', limit: 1000, cursor });
    count += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return count;
}

it(`forwards every event of ${config.loadDeliveries} concurrent deliveries exactly once`, async () => {
  const random = seeded(12);
  const originals = Math.round(config.loadDeliveries * (1 - config.redeliveryShare));
  const batchSizes = Array.from({ length: originals }, () => 1 + Math.floor(random() * 50));
  const plan = planSend({
    types: EVENT_TYPES,
    count: batchSizes.reduce((a, b) => a + b, 0),
    perRequest: 50,
    batchSizes,
    duplicates: (config.loadDeliveries - originals) / originals,
    random,
  });
  const warmedUp = receiver.stats.acknowledged.size;
  const started = performance.now();
  const records = await inPool(plan, config.loadConcurrency, (request) =>
    sendUntilAccepted(sentDelivery(request.body), async () => {
      const result = await deliver(stack.url, request.body, { secret: SECRET });
      return result.attempts;
    }),
  );
  expect(records.every((r) => r.acceptedAt !== undefined)).toBe(true);
  await stack.streams.idle();
  const seconds = (performance.now() - started) / 1000;

  // When each event was first accepted, and when the receiver first acknowledged it.
  const acceptedAt = new Map<string, number>();
  for (const record of records) {
    for (const event of record.delivery.events) {
      const uuid = event.uuid as string;
      acceptedAt.set(uuid, Math.min(acceptedAt.get(uuid) ?? Infinity, record.acceptedAt!));
    }
  }
  const missed = [...acceptedAt.keys()].filter((uuid) => !receiver.stats.acknowledged.has(uuid));
  const repeats = [...receiver.stats.acknowledged.values()].filter((n) => n > 1).length;
  const lags = [...acceptedAt].map(([uuid, at]) => (acknowledgedAt.get(uuid) ?? NaN) - at);
  const succeeded = await countOutcomes('succeeded');
  const failed = await countOutcomes('failed');
  const reactFailures = stack.failures.filter((f) => f.consumer === 'react').length;

  recordFigure(
    'reactions',
    'unique events / forwarded',
    `${acceptedAt.size} / ${receiver.stats.acknowledged.size - warmedUp}`,
  );
  recordFigure('reactions', 'missed / repeated', `${missed.length} / ${repeats}`);
  recordFigure(
    'reactions',
    'first attempts failed on purpose (10%)',
    receiver.stats.failedOnPurpose,
  );
  recordFigure('reactions', 'signatures not verified', receiver.stats.rejected);
  recordFigure('reactions', 'outcomes succeeded / failed', `${succeeded} / ${failed}`);
  recordFigure(
    'reactions',
    'accepted → forwarded p50 / p99 (ms)',
    `${Math.round(percentile(lags, 50))} / ${Math.round(percentile(lags, 99))}`,
  );
  recordFigure('reactions', 'events forwarded per second', Math.round(acceptedAt.size / seconds));

  expect(missed).toEqual([]);
  expect(repeats).toBe(0);
  expect(receiver.stats.rejected).toBe(0);
  expect(receiver.stats.failedOnPurpose).toBeGreaterThan(0);
  expect(reactFailures).toBe(0);
  expect(failed).toBe(0);
  expect(succeeded).toBe(receiver.stats.acknowledged.size); // warm-up events included
  expect(stack.lines.filter((l) => l.includes(FORWARD_SECRET.slice(6)))).toEqual([]);
});
