/**
 * A burst of Okta deliveries: events grouped `perRequest` to an envelope, a fraction of the
 * deliveries sent again as Okta redelivers them (same body, same eventId), then an account of
 * what was accepted and what was lost.
 */
import { type DeliverOptions, type DeliveryResult, deliver } from './deliver';
import { type EventType, type LogEvent, oktaEnvelope, oktaEvents } from './events';

export interface SendPlanOptions {
  types: readonly EventType[];
  /** Unique events in all. */
  count: number;
  perRequest: number;
  /** Events per delivery, in turn, instead of a fixed perRequest (load tests vary the size). */
  batchSizes?: readonly number[];
  /** Fraction (0–1) of deliveries sent a second time. */
  duplicates: number;
  /** Login of the user all events are about. */
  user?: string;
  random?: () => number;
}

export interface PlannedRequest {
  /** The exact body sent, redeliveries included. */
  body: string;
  eventId: string;
  uuids: string[];
  eventTypes: string[];
  /** Position (0-based) in the plan of the delivery this one repeats. */
  redeliveryOf?: number;
}

export function planSend(options: SendPlanOptions): PlannedRequest[] {
  const random = options.random ?? Math.random;
  const events = oktaEvents({
    types: options.types,
    count: options.count,
    user: options.user,
    random,
  });
  const originals: PlannedRequest[] = [];
  let nextSize = 0;
  for (let i = 0; i < events.length;) {
    const size = Math.max(1, options.batchSizes?.[nextSize++] ?? options.perRequest);
    const batch: LogEvent[] = events.slice(i, i + size);
    i += size;
    const envelope = oktaEnvelope(batch);
    originals.push({
      body: JSON.stringify(envelope),
      eventId: envelope.eventId,
      uuids: batch.map((e) => e.uuid),
      eventTypes: [...new Set(batch.map((e) => e.eventType))],
    });
  }

  // Redeliveries come later than their original, at a random point: Okta's order is not kept.
  const repeated = new Set(
    shuffle(
      originals.map((_, i) => i),
      random,
    ).slice(0, Math.round(options.duplicates * originals.length)),
  );
  const slots: Array<{ at: number; request: PlannedRequest; original: number }> = originals.map(
    (request, i) => ({ at: i, request, original: i }),
  );
  for (const i of repeated) {
    slots.push({
      at: i + 0.5 + random() * (originals.length - i),
      request: originals[i]!,
      original: i,
    });
  }
  slots.sort((a, b) => a.at - b.at);
  const positionOf = new Map<number, number>();
  return slots.map((slot, position) => {
    const first = positionOf.get(slot.original);
    if (first === undefined) {
      positionOf.set(slot.original, position);
      return slot.request;
    }
    return { ...slot.request, redeliveryOf: first };
  });
}

function shuffle<T>(list: T[], random: () => number): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

export interface SendSummary {
  requests: number;
  redeliveries: number;
  /** Unique events in the plan. */
  events: number;
  accepted: number;
  /** Requests that needed Okta's one retry. */
  retried: number;
  refused: number;
  failed: number;
  /** Unique events no accepted delivery carried. */
  lost: number;
  p50Ms: number;
  p99Ms: number;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summarize(
  plan: readonly PlannedRequest[],
  results: readonly DeliveryResult[],
): SendSummary {
  const all = new Set(plan.flatMap((r) => r.uuids));
  const delivered = new Set<string>();
  results.forEach((result, i) => {
    if (result.outcome === 'accepted') for (const uuid of plan[i]!.uuids) delivered.add(uuid);
  });
  const count = (outcome: DeliveryResult['outcome']) =>
    results.filter((r) => r.outcome === outcome).length;
  const latencies = results.map((r) => r.latencyMs);
  return {
    requests: results.length,
    redeliveries: plan.filter((r) => r.redeliveryOf !== undefined).length,
    events: all.size,
    accepted: count('accepted'),
    retried: results.filter((r) => r.attempts.length > 1).length,
    refused: count('refused'),
    failed: count('failed'),
    lost: [...all].filter((uuid) => !delivered.has(uuid)).length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Delivers the plan, `concurrency` requests at a time, calling `onResult` as each one ends.
 * Results are in plan order.
 */
export async function runSend(
  url: string,
  plan: readonly PlannedRequest[],
  options: DeliverOptions & {
    concurrency?: number;
    onResult?: (index: number, result: DeliveryResult) => void;
  } = {},
): Promise<{ results: DeliveryResult[]; summary: SendSummary }> {
  const results: DeliveryResult[] = new Array(plan.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const index = next++;
      const result = await deliver(url, plan[index]!.body, options);
      results[index] = result;
      options.onResult?.(index, result);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 1, plan.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return { results, summary: summarize(plan, results) };
}
