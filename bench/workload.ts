/**
 * What the benchmarks send and write: deliveries of Okta's sample event (each event a fresh
 * uuid, so nothing is a duplicate unless meant to be) for write units, deliveries of the
 * simulator's varied events for answer times (copies of one event would gzip 100:1, real ones
 * about 15:1), and the DynamoDB writes the service makes for them, issued directly with the SDK:
 * the floors the receiver and the store function are measured against, and the alternative
 * write strategy (TransactWriteItems) the store function is compared with.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { type OktaDelivery, parseDelivery } from '../lib/okta/okta-contract';
import { EVENT_TYPES } from '../lib/okta-simulator/events';
import { planSend } from '../lib/okta-simulator/send';
import { type ReceivedDelivery, deliveryIdFor, deliveryItems } from '../lib/store/delivery-items';
import {
  type EventOrigin,
  type Item,
  eventItem,
  expiryFor,
  userLinkItems,
} from '../lib/store/event-items';
import { BATCH_SIZE, WRITE_CONCURRENCY } from '../lib/store/event-store';
import { PROJECT_ROOT } from '../lib/store/table-definition';

export const SAMPLE_PATH = join(PROJECT_ROOT, 'test/fixtures/delivery-user.session.start.json');
export const SAMPLE_DELIVERY_TEXT = readFileSync(SAMPLE_PATH, 'utf8');
const SAMPLE = JSON.parse(SAMPLE_DELIVERY_TEXT) as {
  data: { events: Record<string, unknown>[] };
} & Record<string, unknown>;
export const SAMPLE_EVENT = SAMPLE.data.events[0]!;

/**
 * A delivery body of `events` copies of the sample event. `id` makes the uuids: a fresh uuid by
 * default; autocannon's `[<id>]` placeholder gives every request its own ids on the wire.
 */
export function deliveryBody(events: number, id: string = randomUUID()): string {
  const now = Date.now();
  return JSON.stringify({
    ...SAMPLE,
    eventId: id,
    eventTime: new Date(now).toISOString(),
    data: {
      events: Array.from({ length: events }, (_, i) => ({
        ...SAMPLE_EVENT,
        uuid: `${id}-${i}`,
        published: new Date(now - i).toISOString(),
      })),
    },
  });
}

/**
 * Deliveries of `events` varied events from the Okta simulator (types, users, clients and
 * addresses mixed as in a real org). The events are generated once; each body gets fresh ids.
 */
export function generatedDeliveries(events: number): () => string {
  const [planned] = planSend({
    types: EVENT_TYPES,
    count: events,
    perRequest: events,
    duplicates: 0,
  });
  const envelope = JSON.parse(planned!.body) as {
    eventId: string;
    data: { events: Record<string, unknown>[] };
  };
  return () => {
    const eventId = randomUUID();
    return JSON.stringify({
      ...envelope,
      eventId,
      data: { events: envelope.data.events.map((e) => ({ ...e, uuid: randomUUID() })) },
    });
  };
}

/** What the receiver records for a body: Okta's headers, as createDeliveryHandler builds it. */
export function receivedDelivery(body: string, receivedAt = new Date()): ReceivedDelivery {
  const bytes = Buffer.from(body);
  const delivery = parseDelivery(bytes);
  return {
    deliveryId: deliveryIdFor(delivery.eventId, bytes),
    eventId: delivery.eventId,
    receivedAt: receivedAt.toISOString(),
    body: bytes,
    headers: {
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      accept: 'application/json',
      'user-agent': 'Okta-Integrations',
      'x-okta-request-id': 'ZCCzm8j2wTvzwele2NwLnwAADSc',
    },
    eventCount: delivery.events.length,
    eventTypes: [...new Set(delivery.events.map(({ event }) => event.eventType))],
    source: delivery.source,
    eventTime: delivery.eventTime,
    caller: 'okta',
    sourceIp: '52.37.187.104',
    requestId: 'bench-request-id',
    expiresAt: expiryFor(receivedAt, 90),
  };
}

/** The receiver's items for a body: the head (gzipped body inside, or parts beside it). */
export function receiverItems(
  body: string,
  receivedAt = new Date(),
): { head: Item; parts: Item[] } {
  return deliveryItems(receivedDelivery(body, receivedAt));
}

/**
 * The receiver's one durable write, without the receiver: the body parts (for a large body),
 * then the head by conditional PutItem. Items are built beforehand (gzip included).
 */
export async function recordDelivery(
  client: DynamoDBClient,
  table: string,
  items: { head: Item; parts: Item[] },
): Promise<void> {
  await pool(items.parts, async (Item) => {
    await client.send(new PutItemCommand({ TableName: table, Item }));
  });
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: items.head,
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/** Everything the store function writes for one delivery's events, computed ahead of time. */
export interface WritePlan {
  delivery: OktaDelivery;
  origin: EventOrigin;
  links: Item[];
  items: Item[];
}

/** The store function's items for a delivery, built by its own pure functions. */
export function writePlan(body: string, receivedAt = new Date()): WritePlan {
  const delivery = parseDelivery(Buffer.from(body));
  const origin: EventOrigin = {
    origin: 'hook',
    deliveryId: delivery.eventId ?? randomUUID(),
    receivedAt: receivedAt.toISOString(),
    expiresAt: expiryFor(receivedAt, 90),
    source: delivery.source,
    eventTime: delivery.eventTime,
  };
  const seen = new Set<string>();
  const links: Item[] = [];
  const items: Item[] = [];
  for (const parsed of delivery.events) {
    if (seen.has(parsed.event.uuid)) continue;
    seen.add(parsed.event.uuid);
    const item = eventItem(parsed, origin);
    if (!item) continue; // too large for any item: the receiver refuses those
    links.push(...userLinkItems(parsed.event, origin.expiresAt));
    items.push(item);
  }
  return { delivery, origin, links, items };
}

/** `work` on every item, `concurrency` at a time (the store's own pool size by default). */
export async function pool<T>(
  items: T[],
  work: (item: T) => Promise<void>,
  concurrency = WRITE_CONCURRENCY,
): Promise<void> {
  const queue = items.values();
  const worker = async () => {
    for (const item of queue) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function writeLinks(client: DynamoDBClient, table: string, links: Item[]): Promise<void> {
  await pool(chunks(links, BATCH_SIZE), async (batch) => {
    let requests: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const { UnprocessedItems } = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: requests } }),
      );
      requests = UnprocessedItems?.[table] ?? [];
    }
  });
}

/**
 * The store function's strategy (lib/store/event-store.ts) without it: links by
 * BatchWriteItem, one conditional PutItem per event, WRITE_CONCURRENCY at a time. Resolves to
 * the number of events stored (duplicates are not).
 */
export async function conditionalPuts(
  client: DynamoDBClient,
  table: string,
  plan: WritePlan,
): Promise<number> {
  await writeLinks(client, table, plan.links);
  let stored = 0;
  await pool(plan.items, async (Item) => {
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      stored++;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  });
  return stored;
}

/** TransactWriteItems' own limit. */
const TRANSACTION_SIZE = 100;

/**
 * The alternative: the same links, the events in TransactWriteItems of up to 100 conditional
 * Puts. One refused condition cancels the whole transaction, so duplicates are read from
 * CancellationReasons, dropped, and the rest written again: still idempotent, but a delivery
 * with duplicates costs extra round trips, and transactional writes cost 2 WCU per KB.
 */
export async function transactions(
  client: DynamoDBClient,
  table: string,
  plan: WritePlan,
): Promise<number> {
  await writeLinks(client, table, plan.links);
  let stored = 0;
  await pool(chunks(plan.items, TRANSACTION_SIZE), async (chunk) => {
    let pending = chunk;
    while (pending.length > 0) {
      try {
        await client.send(
          new TransactWriteItemsCommand({
            TransactItems: pending.map((Item) => ({
              Put: { TableName: table, Item, ConditionExpression: 'attribute_not_exists(pk)' },
            })),
          }),
        );
        stored += pending.length;
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        // Conflicts with another transaction are retried as they are; duplicates are dropped.
        pending = pending.filter((_, i) => reasons[i]?.Code !== 'ConditionalCheckFailed');
      }
    }
  });
  return stored;
}
