/**
 * Load: thousands of Okta deliveries of 1-50 events, a fifth of them redelivered (same body,
 * same eventId), 20 at a time, through a real serverless offline into DynamoDB Local; the store
 * function writes their events from the table's stream (the local stream runner). Okta's own
 * sender is used (3 s timeout, one retry). Once the stream is drained the table holds exactly
 * the unique events, each as sent, and one `stored` delivery record per accepted delivery; every
 * 5xx is a 503. Answer times and the 204-to-stored lag are recorded as figures.
 */
import { EVENT_TYPES } from '../../lib/okta-simulator/events';
import { planSend } from '../../lib/okta-simulator/send';
import { type TestStack, startTestStack } from '../helpers/offline';
import {
  type SendRecord,
  account,
  deliverUntilAccepted,
  drainStore,
  inPool,
  pair,
  sentDelivery,
  warmUp,
} from './accounting';
import { profile, recordFigure } from './figures';

const SECRET = 'Basic bG9hZDpyZWxpYWJpbGl0eS1zZWNyZXQ=';
const config = profile();
let stack: TestStack;
let warmUpRecords: SendRecord[] = [];

beforeAll(async () => {
  stack = await startTestStack({ OKTA_AUTH_SECRET: SECRET });
  warmUpRecords = await warmUp(stack.url, SECRET, config.loadConcurrency);
  await stack.streams.idle(); // the warm-up's events stored before anything is measured
}, 600_000);

afterAll(async () => {
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

it(`stores exactly the unique events of ${config.loadDeliveries} concurrent deliveries`, async () => {
  const random = seeded(6);
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

  // Okta's sender (3 s timeout, one retry); a delivery Okta would give up on is sent again
  // later, as Hookdeck or a replay from the System Log would, so that loss can be told apart.
  let oktaGaveUp = 0;
  const started = performance.now();
  const records = await inPool(plan, config.loadConcurrency, async (request) => {
    const record = await deliverUntilAccepted(stack.url, sentDelivery(request.body), SECRET);
    if (record.oktaGaveUp) oktaGaveUp++;
    return record;
  });
  const sendSeconds = (performance.now() - started) / 1000;
  const drained = await drainStore(stack.streams, {
    DYNAMODB_ENDPOINT: stack.db.local.endpoint,
    EVENTS_TABLE: stack.tableName,
  });
  const storeSeconds = (performance.now() - started) / 1000;
  const totals = await account(stack.db.client, stack.tableName, records);
  const all = await account(stack.db.client, stack.tableName, [...warmUpRecords, ...records]);
  const eventsSent = records.reduce((n, r) => n + r.delivery.events.length, 0);

  const redeliveries = plan.filter((r) => r.redeliveryOf !== undefined).length;
  const newEvents = all.storedEvents - warmUpRecords.length;
  recordFigure('load', 'deliveries (redeliveries)', `${plan.length} (${redeliveries})`);
  recordFigure('load', 'events sent / unique', `${eventsSent} / ${totals.uniqueEvents}`);
  recordFigure('load', 'concurrency', config.loadConcurrency);
  recordFigure('load', 'accepted deliveries', totals.acceptedDeliveries);
  recordFigure(
    'load',
    "Okta's attempts answered in 3 s",
    `${totals.answers - totals.late} of ${totals.answers}`,
  );
  recordFigure('load', 'deliveries Okta would have given up on', oktaGaveUp);
  recordFigure(
    'load',
    'redeliveries after that (of them cut off by offline at 6 s)',
    `${totals.redeliveries} (${totals.platformTimeouts})`,
  );
  recordFigure('load', '503 answers', totals.status503);
  recordFigure('load', 'answer time p50 / p99 (ms)', pair(totals.p50Ms, totals.p99Ms));
  recordFigure('load', '204 to stored p50 / p99 (ms)', pair(totals.lagP50Ms, totals.lagP99Ms));
  recordFigure('load', 'deliveries received per second', Math.round(plan.length / sendSeconds));
  recordFigure('load', 'events stored per second', Math.round(newEvents / storeSeconds));
  recordFigure('load', 'stream drained after the last answer (ms)', drained.idleMs);
  recordFigure(
    'load',
    'on-failure batches / deliveries redriven',
    `${drained.failedBatches} / ${drained.redriven}`,
  );
  recordFigure(
    'load',
    'stored events / delivery records',
    `${newEvents} / ${all.deliveryRecords - warmUpRecords.length}`,
  );
  recordFigure(
    'load',
    'lost / duplicated / changed',
    `${totals.lost} / ${totals.duplicated} / ${totals.changed}`,
  );

  expect(plan.length).toBe(config.loadDeliveries);
  // Every answer is a 2xx or the service's own 503 with a JSON error: no crash, no 500. (Late
  // answers are counted above: on a shared 2-core machine serverless offline can queue a
  // request past 3 s, which says nothing about the service.)
  expect(totals.breaches).toEqual([]);
  expect(totals.acceptedDeliveries).toBe(plan.length);
  // The table also holds the warm-up's events: counted with them, nothing else is there.
  expect(all.unexpected).toBe(0);
  expect(all.storedEvents).toBe(all.uniqueEvents);
  expect(totals.lost).toBe(0);
  expect(totals.duplicated).toBe(0);
  expect(totals.changed).toBe(0);
  expect(all.deliveryRecords).toBe(originals + warmUpRecords.length);
  expect(all.missingDeliveryRecords).toBe(0);
  expect(all.unstoredDeliveries).toEqual({});
  // No log line carries the secret.
  expect(stack.lines.filter((l) => l.includes(SECRET))).toEqual([]);
});
