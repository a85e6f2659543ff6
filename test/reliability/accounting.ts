/**
 * What the reliability tests send and what they find stored, and the sums between them:
 * lost, duplicated, changed. Also the senders that keep redelivering until a delivery is
 * accepted, as Hookdeck (or an operator replaying from the System Log) does after Okta's one
 * retry, and the end of the store side: the stream drained, then redrive for what ran out of
 * retries. Answer times and the 204-to-stored lag are figures, not verdicts: a busy machine can
 * eat any wall-clock budget, so only tests of the budget itself fail on time.
 */
import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StreamRunner } from '../../lib/local/stream-runner';
import { DELIVERY_PREFIX, eventJson } from '../../lib/store/event-items';
import {
  OKTA_TIMEOUT_MS,
  attemptRequest,
  deliver,
  deliveryRequest,
} from '../../lib/okta-simulator/deliver';
import { EVENT_TYPES } from '../../lib/okta-simulator/events';
import { percentile, planSend } from '../../lib/okta-simulator/send';
import { allItems } from '../helpers/dynamodb';
import { runScript } from '../helpers/run';

/** One delivery as sent: its exact body, its eventId and the events in it. */
export interface SentDelivery {
  body: string;
  eventId: string;
  events: Record<string, unknown>[];
}

export function sentDelivery(body: string): SentDelivery {
  const parsed = JSON.parse(body) as {
    eventId: string;
    data: { events: Record<string, unknown>[] };
  };
  return { body, eventId: parsed.eventId, events: parsed.data.events };
}

/** One answer to one attempt, as any sender saw it. */
export interface Answer {
  status?: number;
  body?: string;
  error?: string;
  latencyMs: number;
}

/**
 * Why an answer breaks the contract (a 2xx, or a 503 with a JSON error), or undefined. An answer
 * that came after Okta's 3 s (the sender gave up: `timeout`) is late, not a breach: see `late`.
 */
export function contractBreach(answer: Answer): string | undefined {
  if (answer.status === undefined) {
    return answer.error === 'timeout' ? undefined : `no answer (${answer.error ?? 'unknown'})`;
  }
  if (platformTimeout(answer)) return undefined;
  if (answer.status >= 200 && answer.status < 300) return undefined;
  if (answer.status !== 503) return `status ${answer.status}`;
  try {
    const { error } = JSON.parse(answer.body ?? '') as { error?: unknown };
    return typeof error === 'string' ? undefined : '503 without a JSON error';
  } catch {
    return '503 without a JSON body';
  }
}

/**
 * serverless offline's own answer when an invocation passes the function's timeout: a 200 (HTTP
 * API payload 2.0) or 504 whose body is its LambdaTimeoutError. The platform's answer, not the
 * service's, and never an acknowledgement. The local stack runs offline with --noTimeout, so it
 * should not happen; counted if it does.
 */
export function platformTimeout(answer: Answer): boolean {
  return (answer.body ?? '').includes('[504] - Lambda timeout');
}

/** Not answered inside Okta's 3 s (Okta's sender gives up and retries once). */
export function late(answer: Answer): boolean {
  return answer.status === undefined
    ? answer.error === 'timeout'
    : answer.latencyMs >= OKTA_TIMEOUT_MS;
}

export interface SendRecord {
  delivery: SentDelivery;
  /** The answers to Okta's attempts (or, in-process, to every attempt). */
  answers: Answer[];
  /** Over HTTP, after Okta gave up: the redeliveries' answers (see deliverUntilAccepted). */
  redeliveries?: Answer[];
  /** Date.now() when the 2xx arrived; undefined if the sender gave up. */
  acceptedAt?: number;
}

/** A 2xx from the service (not serverless offline's 200 for a timed-out invocation). */
const accepted = (answer: Answer | undefined) =>
  answer?.status !== undefined &&
  answer.status >= 200 &&
  answer.status < 300 &&
  !platformTimeout(answer);

/**
 * One delivery over HTTP as it reaches the service in production: Okta's delivery (3 s timeout,
 * one retry, measured: these are the answers Okta sees); when Okta gives up, redeliveries as
 * Hookdeck or a replay from the System Log would send them, each waiting for its answer (a
 * timeout of `redeliveryTimeoutMs`, past serverless offline's own 6 s), with growing pauses,
 * until one is a 2xx or `maxRedeliveries` were made. Waiting matters on a loaded machine: a
 * sender that gives up after 3 s and sends again piles requests onto serverless offline, which
 * goes on with each abandoned one and kills a worker at its timeout, so that nothing gets warm.
 */
export async function deliverUntilAccepted(
  url: string,
  delivery: SentDelivery,
  secret: string,
  options: {
    maxRedeliveries?: number;
    pauseMs?: number;
    redeliveryTimeoutMs?: number;
    /** Sees every answer as it comes, Okta's and the redeliveries'. */
    onAnswers?: (answers: Answer[]) => void;
  } = {},
): Promise<SendRecord & { oktaGaveUp: boolean }> {
  const { attempts } = await deliver(url, delivery.body, { secret });
  options.onAnswers?.(attempts);
  const record = { delivery, answers: attempts, redeliveries: [] as Answer[], oktaGaveUp: false };
  const last = attempts[attempts.length - 1];
  if (accepted(last)) return { ...record, acceptedAt: Date.now() };
  if (last?.status !== undefined && last.status < 500 && !platformTimeout(last)) return record;
  record.oktaGaveUp = true;
  const request = deliveryRequest(url, delivery.body, { secret });
  for (let n = 0; n < (options.maxRedeliveries ?? 50); n++) {
    const pause = Math.min((options.pauseMs ?? 250) * 2 ** n, 5000);
    await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
    const answer = await attemptRequest(request, options.redeliveryTimeoutMs ?? 60_000);
    options.onAnswers?.([answer]);
    record.redeliveries.push(answer);
    if (accepted(answer)) return { ...record, acceptedAt: Date.now() };
    if (answer.status !== undefined && answer.status < 500 && !platformTimeout(answer)) break;
  }
  return record;
}

/**
 * Sends until a 2xx, pausing between attempts; gives up after `maxAttempts`. `attempt` is one
 * exchange (or, over HTTP, one Okta delivery with its own retry: several answers). The pauses
 * grow (jittered, doubling from `pauseMs` up to `maxPauseMs`), as Hookdeck's retries do: a
 * sender that retries at a fixed pace keeps an overloaded receiver overloaded, since
 * serverless offline, like Lambda, goes on with a request whose caller gave up.
 */
export async function sendUntilAccepted(
  delivery: SentDelivery,
  attempt: () => Promise<Answer[]>,
  options: { maxAttempts?: number; pauseMs?: number; maxPauseMs?: number } = {},
): Promise<SendRecord> {
  const record: SendRecord = { delivery, answers: [] };
  const pauseMs = options.pauseMs ?? 250;
  for (let n = 0; n < (options.maxAttempts ?? 40); n++) {
    const answers = await attempt();
    record.answers.push(...answers);
    const last = answers[answers.length - 1];
    if (accepted(last)) {
      record.acceptedAt = Date.now();
      return record;
    }
    if (last?.status !== undefined && last.status < 500 && !platformTimeout(last)) return record; // a refusal
    const pause = Math.min(pauseMs * 2 ** n, options.maxPauseMs ?? 10_000);
    await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
  }
  return record;
}

/** Runs `work` on every item, `concurrency` at a time, results in order. */
export async function inPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export interface Accounting {
  deliveries: number;
  acceptedDeliveries: number;
  uniqueEvents: number;
  storedEvents: number;
  /** Sent and accepted, but not in the table. */
  lost: number;
  /** More than one item for an event, or an item rewritten after its first acceptance. */
  duplicated: number;
  /** Stored, but not deep-equal to what was sent. */
  changed: number;
  /** In the table but never sent. */
  unexpected: number;
  deliveryRecords: number;
  /** Accepted eventIds without their one delivery record: a 2xx for a request not made durable. */
  missingDeliveryRecords: number;
  /** Accepted deliveries whose record is not `stored` (status: count). */
  unstoredDeliveries: Record<string, number>;
  /** Answers to Okta's attempts (in-process: to every attempt). */
  answers: number;
  /** Redeliveries after Okta gave up, and how many serverless offline cut off at 6 s. */
  redeliveries: number;
  platformTimeouts: number;
  /** Answers (redeliveries included) that break the contract; see contractBreach. */
  breaches: string[];
  status503: number;
  /** Okta's attempts not answered inside its 3 s; see late. */
  late: number;
  /** Answer times of Okta's attempts; one it gave up on counts at 3 s. */
  p50Ms: number;
  p99Ms: number;
  /** From the 2xx the sender saw to the delivery record's storedAt (0 if stored before it). */
  lagP50Ms: number;
  lagP99Ms: number;
}

/**
 * Compares everything sent (`records`) with everything in the table. Call it when the store side
 * is done (see drainStore): before that, accepted events may not be written yet.
 */
export async function account(
  client: DynamoDBClient,
  tableName: string,
  records: readonly SendRecord[],
): Promise<Accounting> {
  const expected = new Map<string, Record<string, unknown>>();
  const firstAccepted = new Map<string, number>();
  const acceptedAt = new Map<string, number>();
  for (const { delivery, acceptedAt: at } of records) {
    for (const event of delivery.events) {
      const uuid = event.uuid as string;
      if (!expected.has(uuid)) expected.set(uuid, event);
      if (at !== undefined) {
        firstAccepted.set(uuid, Math.min(firstAccepted.get(uuid) ?? Infinity, at));
      }
    }
    if (at !== undefined) {
      acceptedAt.set(delivery.eventId, Math.min(acceptedAt.get(delivery.eventId) ?? Infinity, at));
    }
  }

  const items = await allItems(client, tableName);
  const events = items.filter((i) => i.itemType?.S === 'event');
  const deliveries = items.filter((i) => i.itemType?.S === 'delivery');
  const storedUuids = new Set(events.map((i) => i.uuid!.S!));
  let changed = 0;
  let rewritten = 0;
  let unexpected = 0;
  for (const item of events) {
    const uuid = item.uuid!.S!;
    const sent = expected.get(uuid);
    if (!sent) {
      unexpected++;
      continue;
    }
    if (!isDeepStrictEqual(JSON.parse(eventJson(item)), sent)) changed++;
    // An event carries its delivery's first receipt: a later one means a later receipt won.
    const acked = firstAccepted.get(uuid);
    if (acked !== undefined && Date.parse(item.receivedAt!.S!) > acked) rewritten++;
  }
  const recordIds = deliveries.map((i) => i.pk!.S!.slice(DELIVERY_PREFIX.length));
  const recordById = new Map(deliveries.map((i) => [i.pk!.S!.slice(DELIVERY_PREFIX.length), i]));
  const unstored: Record<string, number> = {};
  const lags: number[] = [];
  for (const [eventId, at] of acceptedAt) {
    const record = recordById.get(eventId);
    if (!record) continue; // counted as missing below
    const status = record.status?.S ?? '?';
    if (status !== 'stored') unstored[status] = (unstored[status] ?? 0) + 1;
    else lags.push(Math.max(0, Date.parse(record.storedAt!.S!) - at));
  }
  const answers = records.flatMap((r) => r.answers);
  const redeliveries = records.flatMap((r) => r.redeliveries ?? []);
  const everyAnswer = [...answers, ...redeliveries];
  const latencies = answers.map((a) =>
    a.status === undefined ? Math.max(a.latencyMs, OKTA_TIMEOUT_MS) : a.latencyMs,
  );
  return {
    deliveries: records.length,
    acceptedDeliveries: records.filter((r) => r.acceptedAt !== undefined).length,
    uniqueEvents: expected.size,
    storedEvents: events.length,
    lost: [...firstAccepted.keys()].filter((uuid) => !storedUuids.has(uuid)).length,
    duplicated: events.length - storedUuids.size + rewritten + recordIds.length - recordById.size,
    changed,
    unexpected,
    deliveryRecords: deliveries.length,
    missingDeliveryRecords: [...acceptedAt.keys()].filter((id) => !recordById.has(id)).length,
    unstoredDeliveries: unstored,
    answers: answers.length,
    redeliveries: redeliveries.length,
    platformTimeouts: everyAnswer.filter(platformTimeout).length,
    breaches: everyAnswer.map(contractBreach).filter((b): b is string => b !== undefined),
    status503: everyAnswer.filter((a) => a.status === 503).length,
    late: answers.filter(late).length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
  };
}

/** What it took the store side to finish: on-failure batches, and what redrive then stored. */
export interface Drained {
  /** Batches the stream function gave up on (after its retries): Lambda's on-failure path. */
  failedBatches: number;
  /** Deliveries `npm run events -- redrive` stored afterwards. */
  redriven: number;
  /** Milliseconds until the stream was idle. */
  idleMs: number;
}

/**
 * The store side to its end, as an operator would take it: wait until the stream has handled
 * everything written so far; if batches went to the on-failure path, run `npm run events --
 * redrive` (the real CLI) on the table, which must then leave nothing `received`.
 */
export async function drainStore(
  streams: Pick<StreamRunner, 'idle' | 'failures'>,
  env: { DYNAMODB_ENDPOINT: string; EVENTS_TABLE: string },
  /** streams.failures.length before this part of the test: a shared runner keeps them all. */
  failuresBefore = 0,
): Promise<Drained> {
  const started = performance.now();
  await streams.idle();
  const idleMs = Math.round(performance.now() - started);
  const failedBatches = streams.failures.length - failuresBefore;
  if (failedBatches === 0) return { failedBatches, redriven: 0, idleMs };
  const run = await runScript('scripts/events.ts', ['redrive'], env);
  if (run.code !== 0) throw new Error(`redrive failed (${run.code}): ${run.stderr}`);
  const redriven = run.stdout.split('\n').filter((line) => line.trim() !== '').length; // one a delivery
  return { failedBatches, redriven, idleMs };
}

/** One figure for a percentile pair, in ms. */
export function pair(p50: number, p99: number): string {
  return `${Math.round(p50)} / ${Math.round(p99)}`;
}

/**
 * serverless offline starts one worker per concurrent request, as Lambda starts containers:
 * start `concurrency` of them before measuring, as a live service has its containers warm.
 * Returns the warm-up deliveries, for the accounting of the table they went to.
 */
export async function warmUp(
  url: string,
  secret: string,
  concurrency: number,
): Promise<SendRecord[]> {
  const plan = planSend({ types: EVENT_TYPES, count: concurrency, perRequest: 1, duplicates: 0 });
  return inPool(plan, concurrency, (r) =>
    // Not measured (a cold start may pass 3 s), but accounted for: these events are stored too.
    sendUntilAccepted(sentDelivery(r.body), async () => {
      const { attempts } = await deliver(url, r.body, { secret, timeoutMs: 60_000 });
      return attempts.map((a) => ({ ...a, latencyMs: 0 }));
    }),
  );
}
