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
import { type StoreOutcome } from '../store/delivery-items';
import { DeliveryStore } from '../store/delivery-store';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { DELIVERY_PREFIX, type Item } from '../store/event-items';
import { EventStore } from '../store/event-store';
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

/** Is this stream record a delivery the receiver just wrote (and not a part or an event)? */
export function isDeliveryHead(item: Item): boolean {
  return item.sk?.S === 'DELIVERY' && (item.pk?.S ?? '').startsWith(DELIVERY_PREFIX);
}

/**
 * Stores the events of one received delivery and records the outcome. Idempotent: a repeat
 * finds its events stored (they count as stored by this delivery) and writes nothing new.
 * A body that can no longer be parsed is marked `rejected`, never retried for ever.
 */
export async function storeReceivedDelivery(
  head: Item,
  stores: Stores,
  config: Pick<Config, 'logFormat' | 'stage'> & { quiet?: boolean },
  signal?: AbortSignal,
): Promise<StoreOutcome> {
  const log = (entry: Parameters<typeof logStore>[0]) => {
    if (!config.quiet) logStore(entry, config.logFormat);
  };
  const started = performance.now();
  const deliveryId = head.deliveryId?.S ?? head.pk!.S!.slice(DELIVERY_PREFIX.length);
  const firstReceivedAt = head.firstReceivedAt?.S ?? new Date().toISOString();
  const body = await stores.deliveries.body(head, signal);
  const done = async (outcome: Omit<StoreOutcome, 'storedAt' | 'storeMs'>) => {
    const full: StoreOutcome = {
      ...outcome,
      storedAt: new Date().toISOString(),
      storeMs: Math.round(performance.now() - started),
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
  const result = await stores.events.storeEvents(
    delivery.events,
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
  );
  const outcome = await done({
    status: 'stored',
    storedCount: result.storedCount,
    duplicateCount: result.duplicateCount,
  });
  log({
    level: 'info',
    deliveryId,
    status: 'stored',
    events: delivery.events.length,
    eventTypes: [...new Set(delivery.events.map(({ event }) => event.eventType))],
    stored: result.storedCount,
    duplicates: result.duplicateCount,
    ms: outcome.storeMs,
    lagMs: Math.max(0, Date.parse(outcome.storedAt) - Date.parse(firstReceivedAt)),
  });
  if (config.logFormat === 'json' && !config.quiet) emitDeliveryMetrics(config.stage, result);
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
    return processStreamBatch(
      event,
      context,
      async (record, signal) => {
        const image = record.dynamodb?.NewImage;
        if (record.eventName !== 'INSERT' || !image) return;
        const head = itemFromImage(image);
        if (isDeliveryHead(head)) await storeReceivedDelivery(head, own, config, signal);
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
