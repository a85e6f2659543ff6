/**
 * What the benchmarks send and write: deliveries of Okta's sample event (each event a fresh
 * uuid, so nothing is a duplicate unless meant to be), and the DynamoDB writes the receiver makes
 * for them, issued directly with the SDK: the floor the receiver is measured against, and the
 * alternative write strategy (TransactWriteItems) it is compared with.
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
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  type DeliveryMeta,
  type Item,
  deliveryUpdate,
  eventItem,
  expiryFor,
  userLinkItems,
} from '../lib/store/event-items';
import { BATCH_SIZE, WRITE_CONCURRENCY } from '../lib/store/event-store';
import { type OktaDelivery, parseDelivery } from '../lib/okta/okta-contract';
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

/** Everything the receiver writes for one delivery, computed ahead of time. */
export interface WritePlan {
  delivery: OktaDelivery;
  meta: DeliveryMeta;
  links: Item[];
  items: Item[];
}

/** The receiver's items for a delivery, built by the receiver's own pure functions. */
export function writePlan(body: string, receivedAt = new Date()): WritePlan {
  const delivery = parseDelivery(Buffer.from(body));
  const meta: DeliveryMeta = {
    deliveryId: delivery.eventId ?? randomUUID(),
    receivedAt: receivedAt.toISOString(),
    hookdeckEventId: undefined,
    expiresAt: expiryFor(receivedAt, 90),
  };
  const seen = new Set<string>();
  const links: Item[] = [];
  const items: Item[] = [];
  for (const parsed of delivery.events) {
    if (seen.has(parsed.event.uuid)) continue;
    seen.add(parsed.event.uuid);
    links.push(...userLinkItems(parsed.event, meta));
    items.push(eventItem(parsed, delivery, meta));
  }
  return { delivery, meta, links, items };
}

/** `work` on every item, `concurrency` at a time (the receiver's own pool size by default). */
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

async function recordDelivery(
  client: DynamoDBClient,
  table: string,
  plan: WritePlan,
  storedCount: number,
): Promise<number> {
  const outcome = { storedCount, duplicateCount: plan.delivery.events.length - storedCount };
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      ...deliveryUpdate(plan.delivery, plan.meta, outcome),
    }),
  );
  return storedCount;
}

/**
 * The receiver's strategy (lib/store/event-store.ts) without the receiver: links by BatchWriteItem,
 * one conditional PutItem per event, WRITE_CONCURRENCY at a time, then the delivery UpdateItem.
 * Resolves to the number of events stored (duplicates are not).
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
  return recordDelivery(client, table, plan, stored);
}

/** TransactWriteItems' own limit. */
const TRANSACTION_SIZE = 100;

/**
 * The alternative: the same links and delivery record, the events in TransactWriteItems of up to
 * 100 conditional Puts. One refused condition cancels the whole transaction, so duplicates are
 * read from CancellationReasons, dropped, and the rest written again: still idempotent, but a
 * delivery with duplicates costs extra round trips, and transactional writes cost 2 WCU per KB.
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
  return recordDelivery(client, table, plan, stored);
}
