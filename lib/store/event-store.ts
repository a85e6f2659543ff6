/**
 * Stores events exactly once, whoever brings them (a hook delivery, from the table's stream, or
 * the System Log reconciler), and reads them back.
 *
 * Each event is one conditional PutItem (`attribute_not_exists(pk)`): a redelivered event is
 * refused by DynamoDB itself, so it never makes a second item nor overwrites the first receipt,
 * whichever Lambda container sees it. BatchWriteItem cannot carry that condition.
 *
 * Events go in chunks: first one BatchGetItem finds which already exist (they are skipped, links
 * included), then the user link items (lib/store/event-items.ts) of the new ones, then their
 * puts. Links before the event means an event that exists always has its links; chunk by chunk
 * means an attempt cut off leaves whole events behind and the next attempt does less.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { StorageUnavailableError } from '../errors';
import { sleep } from '../sleep';
import { type ParsedEvent } from '../okta/okta-contract';
import {
  EVENT_PREFIX,
  type EventOrigin,
  type Item,
  carriedByItem,
  eventItem,
  eventJson,
  eventKey,
  eventTypeUpdates,
  sameEventText,
  userLinkItems,
} from './event-items';

/** Parallel writes per delivery: enough to hide latency, few enough not to self-throttle. */
export const WRITE_CONCURRENCY = 16;
/** BatchWriteItem's own limit. */
export const BATCH_SIZE = 25;
/** BatchGetItem's own limit: one existence check per chunk of events. */
export const CHUNK_SIZE = 100;

export interface StoreResult {
  /** Events whose first receipt is this one (for a hook delivery: also by an earlier attempt). */
  storedCount: number;
  /** Events already stored by another receipt, and repeats within the batch. */
  duplicateCount: number;
  /** Events written by this call. */
  writtenCount: number;
  /**
   * uuids that came with text other than the text already stored (or first seen in this call):
   * the first text is kept; these are counted as duplicates too.
   */
  conflictUuids: string[];
  /** Distinct events handled: all of them, unless `shouldStop` ended the call early. */
  handledCount: number;
}

/** Each uuid's first occurrence, and the uuids repeated with different text (first wins). */
export function uniqueEvents(events: readonly ParsedEvent[]): {
  unique: ParsedEvent[];
  conflictUuids: string[];
} {
  const first = new Map<string, ParsedEvent>();
  const conflicts = new Set<string>();
  for (const e of events) {
    const seen = first.get(e.event.uuid);
    if (!seen) first.set(e.event.uuid, e);
    else if (!sameEventText(seen.rawJson, e.rawJson)) conflicts.add(e.event.uuid);
  }
  return { unique: [...first.values()], conflictUuids: [...conflicts] };
}

export class EventStore {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /**
   * Stores every event not yet stored. Resolves when all of them are durable; otherwise throws
   * StorageUnavailableError, leaving the events written so far whole (with their links), so a
   * retry continues where this attempt stopped. Events too large for any item are skipped here:
   * the receiver refuses them before anything is acknowledged.
   */
  async storeEvents(
    events: readonly ParsedEvent[],
    origin: EventOrigin,
    signal?: AbortSignal,
    /** Asked between chunks of CHUNK_SIZE (never before the first): true ends the call there. */
    shouldStop?: () => boolean,
  ): Promise<StoreResult> {
    const { unique: list, conflictUuids } = uniqueEvents(events);
    const result: StoreResult = {
      storedCount: 0,
      duplicateCount: 0,
      writtenCount: 0,
      conflictUuids,
      handledCount: 0,
    };
    try {
      for (let i = 0; i < list.length; i += CHUNK_SIZE) {
        if (i > 0 && shouldStop?.()) break;
        const chunk = list.slice(i, i + CHUNK_SIZE);
        await this.storeChunk(chunk, origin, result, signal);
        result.handledCount += chunk.length;
      }
      // The event browser's type picker reads this registry (issue 13): one write per distinct type.
      await this.recordEventTypes(list.slice(0, result.handledCount), origin, signal);
    } catch (error) {
      throw storageError(error, signal);
    }
    result.duplicateCount =
      (result.handledCount === list.length ? events.length : result.handledCount) -
      result.storedCount;
    return result;
  }

  private async storeChunk(
    chunk: ParsedEvent[],
    origin: EventOrigin,
    result: StoreResult,
    signal?: AbortSignal,
  ): Promise<void> {
    const existing = await this.firstReceipts(
      chunk.map((e) => e.event.uuid),
      signal,
    );
    const fresh: { parsed: ParsedEvent; item: Item }[] = [];
    const carried: string[] = [];
    const conflicts = new Set(result.conflictUuids);
    const compare = (parsed: ParsedEvent, stored: Item | undefined) => {
      const text = stored && storedText(stored);
      const uuid = parsed.event.uuid;
      if (text !== undefined && !conflicts.has(uuid) && !sameEventText(text, parsed.rawJson)) {
        conflicts.add(uuid);
        result.conflictUuids.push(uuid);
      }
    };
    for (const parsed of chunk) {
      const uuid = parsed.event.uuid;
      const stored = existing.get(uuid);
      if (stored) {
        compare(parsed, stored);
        if (this.isOwnReceipt(stored.deliveryId?.S ?? '', origin)) result.storedCount++;
        else carried.push(uuid);
        continue;
      }
      const item = eventItem(parsed, origin);
      if (item) fresh.push({ parsed, item });
    }

    for (let i = 0; i < fresh.length; i += BATCH_SIZE) {
      const group = fresh.slice(i, i + BATCH_SIZE);
      const links = group.flatMap(({ parsed }) => userLinkItems(parsed.event, origin.expiresAt));
      await this.batchWriteAll(links, signal);
      await inParallel(
        group,
        async ({ parsed, item }) => {
          const earlier = await this.putIfAbsent(item, signal);
          if (earlier === undefined) {
            result.storedCount++;
            result.writtenCount++;
            return;
          }
          compare(parsed, earlier);
          if (this.isOwnReceipt(earlier.deliveryId?.S ?? '', origin)) result.storedCount++;
          else carried.push(parsed.event.uuid);
        },
        signal,
      );
    }
    // Hook deliveries only: the System Log re-reading an event is not a second receipt.
    if (origin.origin === 'hook' && origin.deliveryId !== undefined) {
      await this.batchWriteAll(
        carried.map((uuid) => carriedByItem(uuid, origin)),
        signal,
      );
    }
  }

  /** An event first stored by this same delivery (an earlier attempt of it) counts as stored. */
  private isOwnReceipt(firstDeliveryId: string, origin: EventOrigin): boolean {
    return origin.deliveryId !== undefined && firstDeliveryId === origin.deliveryId;
  }

  /**
   * uuid -> the stored item (its deliveryId, absent for none, and its text) for the uuids already
   * stored. The text costs no read units: a read is paid by item size, whatever it projects.
   */
  private async firstReceipts(uuids: string[], signal?: AbortSignal): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    let pending: Item[] = uuids.map(eventKey);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt, signal);
      const { Responses, UnprocessedKeys } = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: {
              Keys: pending,
              ProjectionExpression: 'pk, deliveryId, #event, eventGzip',
              ExpressionAttributeNames: { '#event': 'event' },
              ConsistentRead: true,
            },
          },
        }),
        { abortSignal: signal },
      );
      for (const item of Responses?.[this.tableName] ?? []) {
        found.set(item.pk!.S!.slice(EVENT_PREFIX.length), item);
      }
      pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }

  /** Registers the batch's event types (lib/store/event-items.ts eventTypeUpdates). */
  private async recordEventTypes(
    events: readonly ParsedEvent[],
    origin: EventOrigin,
    signal?: AbortSignal,
  ): Promise<void> {
    await inParallel(
      eventTypeUpdates(events, origin),
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

  /** Writes items unconditionally, 25 a request, retrying what DynamoDB leaves unprocessed. */
  private async batchWriteAll(items: Item[], signal?: AbortSignal): Promise<void> {
    const batches: Item[][] = [];
    for (let i = 0; i < items.length; i += BATCH_SIZE) batches.push(items.slice(i, i + BATCH_SIZE));
    await inParallel(batches, (batch) => this.batchWrite(batch, signal), signal);
  }

  private async batchWrite(items: Item[], signal?: AbortSignal): Promise<void> {
    let requests: WriteRequest[] = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt, signal);
      const { UnprocessedItems } = await this.client.send(
        new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
        { abortSignal: signal },
      );
      requests = UnprocessedItems?.[this.tableName] ?? [];
    }
  }

  /** Undefined when written; when an item with this key already existed, that item. */
  private async putIfAbsent(item: Item, signal?: AbortSignal): Promise<Item | undefined> {
    if (signal?.aborted) throw signal.reason;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return error.Item ?? {};
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

/** An event item's text, undefined for an item that holds none. */
function storedText(item: Item): string | undefined {
  return item.event?.S !== undefined || item.eventGzip?.B !== undefined
    ? eventJson(item)
    : undefined;
}

/** Runs `work` on every item, WRITE_CONCURRENCY at a time; the first failure fails the lot. */
export async function inParallel<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
  signal?: AbortSignal,
  concurrency = WRITE_CONCURRENCY,
): Promise<void> {
  const queue = items.values();
  let failed = false;
  const worker = async () => {
    for (const item of queue) {
      if (failed || signal?.aborted) return;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, worker);
  const results = await Promise.allSettled(workers);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  if (signal?.aborted) throw signal.reason;
}

/** Jittered exponential backoff between retries of unprocessed batch items. */
function backoff(attempt: number, signal?: AbortSignal): Promise<void> {
  return sleep(Math.min(25 * 2 ** attempt, 500) * Math.random(), signal);
}

/** Any failure to store is the sender's cue to retry; an abort is the budget running out. */
export function storageError(error: unknown, signal?: AbortSignal): Error {
  if (error instanceof StorageUnavailableError) return error;
  if (signal?.aborted) {
    return new StorageUnavailableError('the time budget ran out', { cause: error });
  }
  const name = error instanceof Error ? error.name : 'unknown error';
  return new StorageUnavailableError(`DynamoDB answered ${name}`, { cause: error });
}
