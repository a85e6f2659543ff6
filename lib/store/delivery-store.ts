/**
 * Deliveries as received: written by the receiver before it answers (one conditional PutItem,
 * plus parts first for a large body), read back by the `store` function and by redrive.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DELIVERY_PREFIX, type Item } from './event-items';
import {
  PART_PREFIX,
  type ReceivedDelivery,
  type StoreOutcome,
  alternateDeliveryId,
  attemptUpdate,
  deliveryBody,
  deliveryItems,
  deliveryKey,
  outcomeUpdate,
  sha256,
} from './delivery-items';
import { inParallel, storageError } from './event-store';

export interface RecordResult {
  /** The key the delivery is stored under (another one when its eventId came with another body). */
  deliveryId: string;
  /** 1 for a first receipt; more when Okta or Hookdeck sent the same delivery again. */
  attempts: number;
}

export class DeliveryStore {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /**
   * Makes a delivery durable. A repeat of one already written (same id, same body) only counts
   * the attempt: its events are stored from the first. The same eventId with another body is
   * another delivery, kept under an id derived from that body, so nothing sent is ever dropped.
   */
  async record(delivery: ReceivedDelivery, signal?: AbortSignal): Promise<RecordResult> {
    const bodySha256 = sha256(delivery.body);
    try {
      const first = await this.writeOrCount(delivery, bodySha256, signal);
      if (first) return first;
      const alternate = {
        ...delivery,
        deliveryId: alternateDeliveryId(delivery.deliveryId, bodySha256),
      };
      const second = await this.writeOrCount(alternate, bodySha256, signal);
      if (second) return second;
      throw new Error(`delivery ${alternate.deliveryId} exists with another body`);
    } catch (error) {
      throw storageError(error, signal);
    }
  }

  /** Undefined when the id is taken by a different body. */
  private async writeOrCount(
    delivery: ReceivedDelivery,
    bodySha256: string,
    signal?: AbortSignal,
  ): Promise<RecordResult | undefined> {
    const { head, parts } = deliveryItems(delivery);
    // Parts first: the head's INSERT is what sets the store function going.
    await inParallel(parts, (part) => this.put(part, signal), signal);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: head,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
        { abortSignal: signal },
      );
      return { deliveryId: delivery.deliveryId, attempts: 1 };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          ...attemptUpdate(delivery.deliveryId, delivery.receivedAt, bodySha256),
        }),
        { abortSignal: signal },
      );
      return { deliveryId: delivery.deliveryId, attempts: Number(Attributes?.attempts?.N ?? 2) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async put(item: Item, signal?: AbortSignal): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }), {
      abortSignal: signal,
    });
  }

  async get(deliveryId: string): Promise<Item | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: deliveryKey(deliveryId),
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  /** The body exactly as received, reading the parts when the head does not hold it. */
  async body(head: Item, signal?: AbortSignal): Promise<Buffer> {
    if (head.body?.B) return deliveryBody(head);
    const parts: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
          ExpressionAttributeValues: { ':pk': head.pk!, ':part': { S: PART_PREFIX } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
        { abortSignal: signal },
      );
      parts.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const expected = Number(head.bodyParts?.N ?? 0);
    if (parts.length !== expected) {
      throw new Error(
        `delivery ${head.pk?.S?.slice(DELIVERY_PREFIX.length)} has ${parts.length} of ${expected} body parts`,
      );
    }
    return deliveryBody(head, parts);
  }

  async markDone(deliveryId: string, outcome: StoreOutcome, signal?: AbortSignal): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({ TableName: this.tableName, ...outcomeUpdate(deliveryId, outcome) }),
      { abortSignal: signal },
    );
  }
}
