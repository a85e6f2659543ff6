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
  type ReceivedDelivery,
  type StoreOutcome,
  type StoreProgress,
  continuationItem,
  alternateDeliveryId,
  attemptUpdate,
  deliveryBody,
  deliveryItems,
  deliveryKey,
  outcomeUpdate,
  partsOf,
  sha256,
} from './delivery-items';
import { inParallel, storageError } from './event-store';

/** Other bodies listed on the delivery holding an eventId: an attacker's stream of them stops here. */
const MAX_OTHER_BODIES = 100;

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
   * another delivery, kept under an id derived from that body (its head says `sameEventIdAs`,
   * the first one's head lists it in `otherBodies`), so nothing sent is ever dropped.
   */
  async record(delivery: ReceivedDelivery, signal?: AbortSignal): Promise<RecordResult> {
    const bodySha256 = sha256(delivery.body);
    try {
      const first = await this.writeOrCount(delivery, bodySha256, signal);
      if (first) return first;
      const alternate = {
        ...delivery,
        deliveryId: alternateDeliveryId(delivery.deliveryId, bodySha256),
        sameEventIdAs: delivery.deliveryId,
      };
      const second = await this.writeOrCount(alternate, bodySha256, signal);
      if (!second) throw new Error(`delivery ${alternate.deliveryId} exists with another body`);
      await this.noteOtherBody(delivery.deliveryId, alternate.deliveryId, signal);
      return second;
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
    if (parts.length > 0) {
      // Parts cost a write unit a KB: read the head first, so a retry does not write them again.
      const existing = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: deliveryKey(delivery.deliveryId),
          ProjectionExpression: 'bodySha256',
          ConsistentRead: true,
        }),
        { abortSignal: signal },
      );
      if (existing.Item?.bodySha256?.S !== undefined) {
        return existing.Item.bodySha256.S === bodySha256
          ? this.countAttempt(delivery, bodySha256, signal)
          : undefined;
      }
    }
    // Parts first: the head's INSERT is what sets the store function going. Their keys carry the
    // body's hash, so a different body racing for the same id never overwrites them.
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
    // Lost a race to another body: parts written here stay unread (they expire with the head;
    // deleting them would give the receiver DeleteItem on the table).
    return this.countAttempt(delivery, bodySha256, signal);
  }

  /** Undefined when the head holds another body. */
  private async countAttempt(
    delivery: ReceivedDelivery,
    bodySha256: string,
    signal?: AbortSignal,
  ): Promise<RecordResult | undefined> {
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

  /** Lists, on the delivery holding an eventId, another body's delivery (at most MAX_OTHER_BODIES). */
  private async noteOtherBody(holder: string, other: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: deliveryKey(holder),
          UpdateExpression: 'ADD otherBodies :other',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(otherBodies) OR contains(otherBodies, :id) OR size(otherBodies) < :max)',
          ExpressionAttributeValues: {
            ':other': { SS: [other] },
            ':id': { S: other },
            ':max': { N: String(MAX_OTHER_BODIES) },
          },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      // A full list keeps the item far below 400 KB; the other delivery still names the holder.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
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

  /** The body exactly as received (checked against its hash), reading the parts if need be. */
  async body(head: Item, signal?: AbortSignal): Promise<Buffer> {
    if (head.body?.B) return deliveryBody(head);
    const { prefix, matches } = partsOf(head);
    const parts: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
          ExpressionAttributeValues: { ':pk': head.pk!, ':part': { S: prefix } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
        { abortSignal: signal },
      );
      parts.push(...(page.Items ?? []).filter((p) => matches(p.sk?.S ?? '')));
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

  /** Leaves the rest of a delivery to a follow-up invocation (the item's INSERT starts it). */
  async continueLater(
    deliveryId: string,
    progress: StoreProgress,
    expiresAt: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: continuationItem(deliveryId, progress, expiresAt),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      // Written by an earlier try of this same invocation's work: one follow-up is enough.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async markDone(deliveryId: string, outcome: StoreOutcome, signal?: AbortSignal): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({ TableName: this.tableName, ...outcomeUpdate(deliveryId, outcome) }),
      { abortSignal: signal },
    );
  }
}
