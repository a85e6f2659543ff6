/**
 * The `store` function: for each delivery the receiver wrote (its INSERT on the table's stream),
 * write its events exactly once (lib/store/event-store.ts), then mark the delivery stored with
 * its counts. Redrive (`npm run events -- redrive`) runs the same storeReceivedDelivery.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { type Config, config as containerConfig } from '../config';
import { RequestError } from '../errors';
import { logStore } from '../logger';
import { emitDeliveryMetrics } from '../metrics';
import { parseDelivery } from '../okta/okta-contract';
import {
  MAX_CONFLICT_UUIDS,
  type StoreOutcome,
  type StoreProgress,
  isContinuation,
  progressOf,
} from '../store/delivery-items';
import { DeliveryStore } from '../store/delivery-store';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { DELIVERY_PREFIX, type Item } from '../store/event-items';
import { EventStore, uniqueEvents } from '../store/event-store';
import { itemFromImage, processStreamBatch } from './stream-batch';

export interface Stores {
  deliveries: DeliveryStore;
  events: EventStore;
}

export function storesFor(config: Config): Stores {
  // Store writes are not on Okta's clock: allow a slow DynamoDB the read timeout.
  const client = createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS });
  return {
    deliveries: new DeliveryStore(client, config.tableName),
    events: new EventStore(client, config.tableName),
  };
}

/** Is this stream record a delivery the receiver just wrote (not a part, continuation or event)? */
export function isDeliveryHead(item: Item): boolean {
  return item.sk?.S === 'DELIVERY' && (item.pk?.S ?? '').startsWith(DELIVERY_PREFIX);
}

/** Distinct events one invocation stores of a delivery; the rest go to a follow-up invocation. */
export const EVENTS_PER_INVOCATION = 1000;

/** When the `store` function hands the rest of a delivery to a follow-up instead of going on. */
export interface StoreLimits {
  /** Distinct events this call stores at most. */
  maxEvents: number;
  /** Epoch ms after which no new chunk of events is started. */
  yieldAt: number;
}

/**
 * Stores the events of one received delivery and records the outcome. Idempotent: a repeat
 * finds its events stored (they count as stored by this delivery) and writes nothing new.
 * A body that can no longer be parsed is marked `rejected`, never retried for ever.
 * Redrive runs it whole; the stream runs it in bounded steps (storeDeliveryStep).
 */
export async function storeReceivedDelivery(
  head: Item,
  stores: Stores,
  config: StoreConfig,
  signal?: AbortSignal,
): Promise<StoreOutcome> {
  const outcome = await storeDeliveryStep(head, stores, config, signal);
  if (outcome === 'continued') throw new Error('a delivery stored without limits was continued');
  return outcome;
}

type StoreConfig = Pick<Config, 'logFormat' | 'stage'> & { quiet?: boolean };

/**
 * Stores the delivery's events from `progress` on (from the first without it). With `limits`,
 * stops at a chunk boundary once it has stored `maxEvents` or passed `yieldAt`, and writes a
 * continuation item whose stream INSERT brings the rest to a follow-up invocation: a large
 * delivery never depends on an invocation running out of time and being retried.
 */
export async function storeDeliveryStep(
  head: Item,
  stores: Stores,
  config: StoreConfig,
  signal?: AbortSignal,
  progress?: StoreProgress,
  limits?: StoreLimits,
): Promise<StoreOutcome | 'continued'> {
  const log = (entry: Parameters<typeof logStore>[0]) => {
    if (!config.quiet) logStore(entry, config.logFormat);
  };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started) + (progress?.storeMs ?? 0);
  const deliveryId = head.deliveryId?.S ?? head.pk!.S!.slice(DELIVERY_PREFIX.length);
  const firstReceivedAt = head.firstReceivedAt?.S ?? new Date().toISOString();
  const body = await stores.deliveries.body(head, signal);
  const done = async (outcome: Omit<StoreOutcome, 'storedAt' | 'storeMs'>) => {
    const full: StoreOutcome = {
      ...outcome,
      storedAt: new Date().toISOString(),
      storeMs: elapsed(),
    };
    await stores.deliveries.markDone(deliveryId, full, signal);
    return full;
  };

  let delivery;
  try {
    delivery = parseDelivery(body);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    const outcome = await done({
      status: 'rejected',
      storedCount: 0,
      duplicateCount: 0,
      reason: error.message,
    });
    log({
      level: 'error',
      deliveryId,
      status: 'rejected',
      events: 0,
      ms: outcome.storeMs,
      reason: error.message,
    });
    return outcome;
  }

  const expiresAt = head.expiresAt?.N === undefined ? undefined : Number(head.expiresAt.N);
  const { unique, conflictUuids: repeated } = uniqueEvents(delivery.events);
  const from = progress?.from ?? 0;
  const slice = unique.slice(from, limits ? from + limits.maxEvents : undefined);
  const result = await stores.events.storeEvents(
    slice,
    {
      origin: 'hook',
      deliveryId,
      receivedAt: firstReceivedAt,
      expiresAt,
      source: delivery.source,
      eventTime: delivery.eventTime,
      hookdeckEventId: head.hookdeckEventId?.S,
    },
    signal,
    limits && (() => Date.now() > limits.yieldAt),
  );
  // uuids repeated inside the delivery with other text are found once, by the first step.
  const newConflicts = [
    ...new Set(from === 0 ? [...repeated, ...result.conflictUuids] : result.conflictUuids),
  ];
  const sofar: StoreProgress = {
    from: from + result.handledCount,
    storedCount: (progress?.storedCount ?? 0) + result.storedCount,
    conflictCount: (progress?.conflictCount ?? 0) + newConflicts.length,
    conflictUuids: [...(progress?.conflictUuids ?? []), ...newConflicts].slice(
      0,
      MAX_CONFLICT_UUIDS,
    ),
    storeMs: 0,
  };
  // After the step's own line: its metrics, then the conflicts it found.
  const afterStep = () => {
    if (config.logFormat === 'json' && !config.quiet) {
      // Each step counts what it did; repeats inside the delivery are counted by the first.
      const repeats = from === 0 ? delivery.events.length - unique.length : 0;
      emitDeliveryMetrics(config.stage, {
        ...result,
        duplicateCount: result.handledCount - result.storedCount + repeats,
      });
    }
    if (newConflicts.length > 0) {
      // First wins: the text stored first stays; this delivery's other text is only recorded.
      log({
        level: 'warn',
        deliveryId,
        status: 'conflict',
        events: newConflicts.length,
        ms: elapsed(),
        reason: `${newConflicts.length} event(s) came with other text than the text stored first (kept): npm run events -- delivery <id> lists their uuids`,
        conflictUuids: newConflicts.slice(0, MAX_CONFLICT_UUIDS),
      });
    }
  };
  if (sofar.from < unique.length) {
    await stores.deliveries.continueLater(
      deliveryId,
      { ...sofar, storeMs: elapsed() },
      expiresAt,
      signal,
    );
    log({
      level: 'info',
      deliveryId,
      status: `continues (${sofar.from} of ${unique.length} done)`,
      events: delivery.events.length,
      stored: sofar.storedCount,
      duplicates: sofar.from - sofar.storedCount,
      ms: elapsed(),
    });
    afterStep();
    return 'continued';
  }
  const outcome = await done({
    status: 'stored',
    storedCount: sofar.storedCount,
    duplicateCount: delivery.events.length - sofar.storedCount,
    conflictCount: sofar.conflictCount,
    conflictUuids: sofar.conflictUuids,
  });
  log({
    level: 'info',
    deliveryId,
    status: 'stored',
    events: delivery.events.length,
    eventTypes: [...new Set(delivery.events.map(({ event }) => event.eventType))],
    stored: outcome.storedCount,
    duplicates: outcome.duplicateCount,
    conflicts: outcome.conflictCount || undefined,
    ms: outcome.storeMs,
    lagMs: Math.max(0, Date.parse(outcome.storedAt) - Date.parse(firstReceivedAt)),
  });
  afterStep();
  return outcome;
}

export function createStoreHandler(deps: { config?: Config; stores?: Stores } = {}) {
  let stores = deps.stores;
  return async (
    event: DynamoDBStreamEvent,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<DynamoDBBatchResponse> => {
    const config = deps.config ?? containerConfig();
    const own = (stores ??= storesFor(config));
    // Half the invocation's time for starting new chunks: the rest of a delivery is continued.
    const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
    const limits: StoreLimits = {
      maxEvents: EVENTS_PER_INVOCATION,
      yieldAt: Date.now() + remaining / 2,
    };
    return processStreamBatch(
      event,
      context,
      async (record, signal) => {
        const image = record.dynamodb?.NewImage;
        if (record.eventName !== 'INSERT' || !image) return;
        const item = itemFromImage(image);
        if (isDeliveryHead(item)) {
          await storeDeliveryStep(item, own, config, signal, undefined, limits);
        } else if (isContinuation(item)) {
          const head = await own.deliveries.get(item.pk!.S!.slice(DELIVERY_PREFIX.length));
          // Stored meanwhile (redrive), or expired: nothing left to go on with.
          if (head?.status?.S !== 'received') return;
          await storeDeliveryStep(head, own, config, signal, progressOf(item), limits);
        }
      },
      (record, error) => {
        const head = record.dynamodb?.Keys?.pk?.S ?? '?';
        const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        logStore(
          {
            level: 'error',
            deliveryId: head.slice(DELIVERY_PREFIX.length),
            status: 'failed (will be retried)',
            events: 0,
            ms: 0,
            reason: cause.slice(0, 500),
          },
          config.logFormat,
        );
      },
    );
  };
}
