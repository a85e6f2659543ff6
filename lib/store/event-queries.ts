/**
 * The access patterns over stored events and deliveries. Every listing is one DynamoDB Query
 * (never a Scan), newest first, followed by BatchGetItem for the items themselves (the indexes
 * are KEYS_ONLY). Shared by the read API and the local CLI.
 *
 *   events of a type      Query byType   eventType = T   AND timeKey in range
 *   events about a user   Query table    pk = USER#u     AND sk in range     (link items)
 *   all events            Query byTime   itemType=event  AND timeKey in range
 *   event types present   Query table    pk = EVENTTYPE                   (registry items)
 *
 * Deliveries are read by DeliveryQueries (delivery-queries.ts), which this extends; counts over
 * time by EventCounter (event-counts.ts); the shared plumbing is KeyedQueries (keyed-query.ts).
 */
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { EVENT_PREFIX, EVENT_TYPE_PK, type Item, eventJson, eventKey } from './event-items';
import { DeliveryQueries } from './delivery-queries';
import { type CountQuery, EventCounter, type EventCounts } from './event-counts';
import { type EventMeta, type EventQuery, metaOf } from './keyed-query';
import { type Page, checkRange } from './query-parameters';
import type { EventTypeRecord } from './read-records';

export type { EventTypeRecord };

export class EventQueries extends DeliveryQueries {
  /** The same queries, with cursors signed under these tokens (they rotate; the client stays). */
  withCursorSecrets(cursorSecrets: readonly string[]): EventQueries {
    return new EventQueries(this.client, this.tableName, { cursorSecrets });
  }

  /** The stored JSON text of one event, exactly as Okta sent it. */
  async getEventJson(uuid: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: eventKey(uuid), ConsistentRead: true }),
    );
    return Item && eventJson(Item);
  }

  /**
   * Events newest first by `published`; items are each event's JSON text as Okta sent it, and
   * `meta[i]` what the table adds about `items[i]`.
   */
  async listEvents(query: EventQuery): Promise<Page<string> & { meta: EventMeta[] }> {
    checkRange(query);
    const plan = this.planEventQuery(query);
    const { keys, lastEvaluatedKey } = await this.query(plan, query);
    const uuids = keys.map((key) => key.uuid?.S ?? key.pk!.S!.slice(EVENT_PREFIX.length));
    const events = await this.batchGet(uuids.map(eventKey));

    const found = uuids.map((uuid) => {
      const event = events.get(EVENT_PREFIX + uuid);
      // A link can outlive a failed first write of its event, and a type+user listing filters here.
      if (!event) return undefined;
      if (query.type && event.eventType?.S !== query.type) return undefined;
      if (query.user && !event.userKeys?.L?.some((k) => k.S === query.user!.toLowerCase()))
        return undefined;
      return { json: eventJson(event), meta: metaOf(uuid, event) };
    });
    const page = this.fillPage(plan, keys, lastEvaluatedKey, found, (e) => e.json);
    return {
      items: page.items.map((e) => e.json),
      meta: page.items.map((e) => e.meta),
      nextCursor: page.nextCursor,
    };
  }

  /** Every event type stored (the registry written with each delivery), by name. */
  async listEventTypes(): Promise<EventTypeRecord[]> {
    const types: EventTypeRecord[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: EVENT_TYPE_PK } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        types.push({ eventType: item.sk!.S!, lastSeenAt: item.lastSeenAt?.S ?? '' });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return types;
  }

  /**
   * How many events of the filter were published in each bucket of the range, counted at read
   * time from the keys-only index entries (or user link items): nothing extra is written per
   * event, and counts are exact whatever was redelivered or expired. An open range is first
   * closed at the filter's oldest and newest events (two one-key Queries).
   *
   * One Query reads the whole range, newest first; only when it stops at DynamoDB's 1 MB page
   * (about 8,000 keys) are the remaining buckets counted in parallel (Select COUNT), so a small
   * range costs one request and a large one is not read page after page. A type and a user
   * together read both key ranges and count their intersection. Buckets not counted by
   * `deadline` (epoch ms) are returned as null.
   */
  countEvents(
    query: CountQuery,
    options: { deadline?: number; maxBuckets?: number; firstPageLimit?: number } = {},
  ): Promise<EventCounts> {
    return new EventCounter(this).count(query, options);
  }
}
