/**
 * What the reliability tests send and what they find stored, and the sums between them:
 * lost, duplicated, changed. Also the senders that keep redelivering until a delivery is
 * accepted, as Hookdeck (or an operator replaying from the System Log) does after Okta's one retry.
 */
import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DELIVERY_PREFIX, eventJson } from '../../lib/store/event-items';
import { OKTA_TIMEOUT_MS, deliver } from '../../lib/okta-simulator/deliver';
import { EVENT_TYPES } from '../../lib/okta-simulator/events';
import { percentile, planSend } from '../../lib/okta-simulator/send';
import { allItems } from '../helpers/dynamodb';

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

/** Why an answer breaks the contract (2xx, or 503 with a JSON error inside 3 s), or undefined. */
export function contractBreach(answer: Answer): string | undefined {
  if (answer.status === undefined) return `no answer (${answer.error ?? 'unknown'})`;
  if (answer.status >= 200 && answer.status < 300) return undefined;
  if (answer.status !== 503) return `status ${answer.status}`;
  if (answer.latencyMs >= OKTA_TIMEOUT_MS) return `503 after ${answer.latencyMs} ms`;
  try {
    const { error } = JSON.parse(answer.body ?? '') as { error?: unknown };
    return typeof error === 'string' ? undefined : '503 without a JSON error';
  } catch {
    return '503 without a JSON body';
  }
}

export interface SendRecord {
  delivery: SentDelivery;
  answers: Answer[];
  /** Date.now() when the 2xx arrived; undefined if the sender gave up. */
  acceptedAt?: number;
}

/**
 * Sends until a 2xx, pausing between attempts; gives up after `maxAttempts`. `attempt` is one
 * exchange (or, over HTTP, one Okta delivery with its own retry: several answers).
 */
export async function sendUntilAccepted(
  delivery: SentDelivery,
  attempt: () => Promise<Answer[]>,
  options: { maxAttempts?: number; pauseMs?: number } = {},
): Promise<SendRecord> {
  const record: SendRecord = { delivery, answers: [] };
  for (let n = 0; n < (options.maxAttempts ?? 40); n++) {
    const answers = await attempt();
    record.answers.push(...answers);
    const last = answers[answers.length - 1];
    if (last?.status !== undefined && last.status >= 200 && last.status < 300) {
      record.acceptedAt = Date.now();
      return record;
    }
    if (last?.status !== undefined && last.status < 500) return record; // a refusal: no retry
    await new Promise((r) => setTimeout(r, (options.pauseMs ?? 250) * (1 + Math.random())));
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
  /** Accepted eventIds without their one delivery record. */
  missingDeliveryRecords: number;
  answers: number;
  /** Answers that break the contract; see contractBreach. */
  breaches: string[];
  status503: number;
  p50Ms: number;
  p99Ms: number;
}

/** Compares everything sent (`records`) with everything in the table. */
export async function account(
  client: DynamoDBClient,
  tableName: string,
  records: readonly SendRecord[],
): Promise<Accounting> {
  const expected = new Map<string, Record<string, unknown>>();
  const firstAccepted = new Map<string, number>();
  const acceptedEventIds = new Set<string>();
  for (const { delivery, acceptedAt } of records) {
    for (const event of delivery.events) {
      const uuid = event.uuid as string;
      if (!expected.has(uuid)) expected.set(uuid, event);
      if (acceptedAt !== undefined) {
        firstAccepted.set(uuid, Math.min(firstAccepted.get(uuid) ?? Infinity, acceptedAt));
      }
    }
    if (acceptedAt !== undefined) acceptedEventIds.add(delivery.eventId);
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
    // The first receipt is kept: an item received after the event was first acknowledged was rewritten.
    const acked = firstAccepted.get(uuid);
    if (acked !== undefined && Date.parse(item.receivedAt!.S!) > acked) rewritten++;
  }
  const recordIds = deliveries.map((i) => i.pk!.S!.slice(DELIVERY_PREFIX.length));
  const recordIdSet = new Set(recordIds);
  const answers = records.flatMap((r) => r.answers);
  const latencies = answers.map((a) => a.latencyMs);
  return {
    deliveries: records.length,
    acceptedDeliveries: records.filter((r) => r.acceptedAt !== undefined).length,
    uniqueEvents: expected.size,
    storedEvents: events.length,
    lost: [...firstAccepted.keys()].filter((uuid) => !storedUuids.has(uuid)).length,
    duplicated: events.length - storedUuids.size + rewritten + recordIds.length - recordIdSet.size,
    changed,
    unexpected,
    deliveryRecords: deliveries.length,
    missingDeliveryRecords: [...acceptedEventIds].filter((id) => !recordIdSet.has(id)).length,
    answers: answers.length,
    breaches: answers.map(contractBreach).filter((b): b is string => b !== undefined),
    status503: answers.filter((a) => a.status === 503).length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
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
