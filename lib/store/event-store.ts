/**
 * Stores deliveries idempotently and reads events back.
 *
 * Each event is one conditional PutItem (`attribute_not_exists(pk)`): a redelivered event is
 * refused by DynamoDB itself, so it never makes a second item nor overwrites the first receipt,
 * whichever Lambda container sees it. BatchWriteItem cannot carry that condition.
 *
 * User link items (lib/store/event-items.ts) are written first, with BatchWriteItem: they are the same
 * whenever rewritten, and writing them before the event means an event that exists always has
 * its links, even when an earlier attempt failed half-way.
 */
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { RequestError, StorageUnavailableError } from '../errors';
import {
  type DeliveryMeta,
  type Item,
  MAX_ITEM_BYTES,
  deliveryUpdate,
  eventItem,
  eventTypeUpdates,
  eventKey,
  itemSize,
  userLinkItems,
} from './event-items';
import type { OktaDelivery } from '../okta/okta-contract';

/** Parallel writes per delivery: enough to hide latency, few enough not to self-throttle. */
export const WRITE_CONCURRENCY = 16;
/** BatchWriteItem's own limit. */
export const BATCH_SIZE = 25;

export interface StoreResult {
  storedCount: number;
  duplicateCount: number;
}

export class EventStore {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /**
   * Stores every event of a delivery, then the delivery record. Resolves only when all of it is
   * durable; otherwise throws StorageUnavailableError (or RequestError for an event that can
   * never fit in an item). Duplicates, across or within deliveries, are counted, not written.
   */
  async storeDelivery(
    delivery: OktaDelivery,
    meta: DeliveryMeta,
    signal?: AbortSignal,
  ): Promise<StoreResult> {
    const seen = new Set<string>();
    const items: Item[] = [];
    const links: Item[] = [];
    for (const parsed of delivery.events) {
      if (seen.has(parsed.event.uuid)) continue; // first occurrence in the delivery wins
      seen.add(parsed.event.uuid);
      links.push(...userLinkItems(parsed.event, meta));
      const item = eventItem(parsed, delivery, meta);
      if (itemSize(item) > MAX_ITEM_BYTES) {
        throw new RequestError(
          413,
          'event_too_large',
          `Event ${parsed.event.uuid} is larger than DynamoDB's 400 KB item limit even compressed; nothing from this delivery was stored.`,
        );
      }
      items.push(item);
    }

    const batches: Item[][] = [];
    for (let i = 0; i < links.length; i += BATCH_SIZE) batches.push(links.slice(i, i + BATCH_SIZE));
    await inParallel(batches, (batch) => this.batchWrite(batch, signal), signal);

    let storedCount = 0;
    await inParallel(
      items,
      async (item) => {
        if (await this.putIfAbsent(item, signal)) storedCount++;
      },
      signal,
    );

    // The event browser's type picker reads this registry (issue 13): one write per distinct type.
    await this.recordEventTypes(delivery, meta, signal);

    const outcome = { storedCount, duplicateCount: delivery.events.length - storedCount };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          ...deliveryUpdate(delivery, meta, outcome),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw storageError(error, signal);
    }
    return outcome;
  }

  /** Registers the delivery's event types (lib/store/event-items.ts eventTypeUpdates). */
  private async recordEventTypes(
    delivery: OktaDelivery,
    meta: DeliveryMeta,
    signal?: AbortSignal,
  ): Promise<void> {
    await inParallel(
      eventTypeUpdates(delivery, meta),
      async (update) => {
        try {
          await this.client.send(new UpdateItemCommand({ TableName: this.tableName, ...update }), {
            abortSignal: signal,
          });
        } catch (error) {
          // A newer receipt of this type is already recorded.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      },
      signal,
    );
  }

  /** Writes items unconditionally, retrying what DynamoDB leaves unprocessed, with backoff. */
  private async batchWrite(items: Item[], signal?: AbortSignal): Promise<void> {
    let requests: WriteRequest[] = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(25 * 2 ** attempt, 500) * Math.random(), signal);
      const { UnprocessedItems } = await this.client.send(
        new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
        { abortSignal: signal },
      );
      requests = UnprocessedItems?.[this.tableName] ?? [];
    }
  }

  /** True when written, false when an item with this key already existed. */
  private async putIfAbsent(item: Item, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) throw signal.reason;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async getEvent(uuid: string): Promise<Item | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: eventKey(uuid), ConsistentRead: true }),
    );
    return Item;
  }
}

/** Runs `work` on every item, WRITE_CONCURRENCY at a time; the first failure fails the lot. */
async function inParallel<T>(
  items: T[],
  work: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const queue = items.values();
  const worker = async () => {
    for (const item of queue) await work(item);
  };
  const workers = Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker);
  const results = await Promise.allSettled(workers);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw storageError(failure.reason, signal);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

function storageError(error: unknown, signal?: AbortSignal): Error {
  if (error instanceof RequestError || error instanceof StorageUnavailableError) return error;
  if (signal?.aborted) {
    return new StorageUnavailableError('the request budget ran out', { cause: error });
  }
  const name = error instanceof Error ? error.name : 'unknown error';
  return new StorageUnavailableError(`DynamoDB answered ${name}`, { cause: error });
}
