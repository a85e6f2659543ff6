/**
 * Stores deliveries idempotently and reads events back.
 *
 * Each event is one conditional PutItem (`attribute_not_exists(pk)`): a redelivered event is
 * refused by DynamoDB itself, so it never makes a second item nor overwrites the first receipt,
 * whichever Lambda container sees it. BatchWriteItem cannot carry that condition.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { RequestError, StorageUnavailableError } from './errors';
import {
  type DeliveryMeta,
  type Item,
  MAX_ITEM_BYTES,
  TIME_INDEX,
  deliveryUpdate,
  eventItem,
  eventKey,
  itemSize,
} from './event-items';
import type { OktaDelivery } from './okta-contract';

/** Parallel PutItems per delivery: enough to hide latency, few enough not to self-throttle. */
const WRITE_CONCURRENCY = 16;

export interface StoreResult {
  storedCount: number;
  duplicateCount: number;
}

export interface EventSummary {
  uuid: string;
  published: string;
  eventType: string;
  actor: string | undefined;
  firstTarget: string | undefined;
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
    for (const parsed of delivery.events) {
      if (seen.has(parsed.event.uuid)) continue; // first occurrence in the delivery wins
      seen.add(parsed.event.uuid);
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

    let storedCount = 0;
    const queue = items.values();
    const worker = async () => {
      for (const item of queue) {
        if (await this.putIfAbsent(item, signal)) storedCount++;
      }
    };
    const workers = Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker);
    const results = await Promise.allSettled(workers);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw storageError(failure.reason, signal);

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

  /** Newest events first (by `published`), through the byTime index. */
  async listEvents(limit: number): Promise<EventSummary[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TIME_INDEX,
        KeyConditionExpression: 'itemType = :t',
        ExpressionAttributeValues: { ':t': { S: 'event' } },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map((item) => ({
      uuid: item.uuid?.S ?? '',
      published: item.published?.S ?? '',
      eventType: item.eventType?.S ?? '',
      actor: item.actorAlternateId?.S ?? item.actorId?.S,
      firstTarget: item.targetAlternateIds?.L?.[0]?.S ?? item.targetIds?.L?.[0]?.S,
    }));
  }
}

function storageError(error: unknown, signal?: AbortSignal): Error {
  if (error instanceof RequestError || error instanceof StorageUnavailableError) return error;
  if (signal?.aborted) {
    return new StorageUnavailableError('the request budget ran out', { cause: error });
  }
  const name = error instanceof Error ? error.name : 'unknown error';
  return new StorageUnavailableError(`DynamoDB answered ${name}`, { cause: error });
}
