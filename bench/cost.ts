/**
 * What storing an event costs: DynamoDB write units from the service's actual items, and a
 * monthly bill at Okta's per-org cap. Write units: 1 WRU per started KB of each item written and
 * of each index entry (KEYS_ONLY entries: keys + 100 bytes, always under 1 KB); an UpdateItem is
 * charged for the larger of the item before and after. Storage: item sizes plus 100 bytes per
 * item and per index entry, kept RETENTION_DAYS by TTL.
 *
 * Since the receiver records the request first (issue 11) a delivery costs its head item (the
 * request with its gzipped body) and the store function's status update of that head; the event
 * writes (item, indexes, user links) moved to the store function, which also reads one
 * strongly consistent item per event to skip what is already stored.
 */
import {
  type ConsumedCapacity,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { outcomeUpdate } from '../lib/store/delivery-items';
import { type Item, eventJson, itemSize } from '../lib/store/event-items';
import { round } from './stats';
import { SAMPLE_DELIVERY_TEXT, receiverItems, writePlan } from './workload';

/**
 * us-east-1 on-demand prices. From AWS's public price pages as summarised in mid-2025 (DynamoDB
 * after its 1 Nov 2024 on-demand reduction); no free tier counted. Lambda's reads of a DynamoDB
 * stream are not charged.
 */
export const PRICES = {
  region: 'us-east-1',
  priceListDate: '2025-07 (DynamoDB on-demand prices in force since 2024-11-01)',
  httpApiPerMillionRequests: 1.0,
  lambdaArm64PerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
  dynamoDbStoragePerGbMonth: 0.25,
};

export const OKTA_EVENTS_PER_DAY = 400_000;
const DAYS_PER_MONTH = 30;
const RETENTION_DAYS = 90;
const STORAGE_OVERHEAD_BYTES = 100;

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** Size of a KEYS_ONLY index entry: the table key and the index key attributes. */
function keysOnlyEntryBytes(item: Item, indexKeys: string[]): number {
  const keys: Item = {};
  for (const name of ['pk', 'sk', ...indexKeys]) if (item[name]) keys[name] = item[name]!;
  return itemSize(keys) + STORAGE_OVERHEAD_BYTES;
}

/** The head after the store function's status update: the attributes outcomeUpdate sets. */
function storedHead(head: Item): Item {
  const update = outcomeUpdate(head.deliveryId!.S!, {
    status: 'stored',
    storedCount: 1,
    duplicateCount: 0,
    storedAt: new Date().toISOString(),
    storeMs: 42,
  });
  const values = update.ExpressionAttributeValues;
  return {
    ...head,
    status: values[':status']!,
    storedCount: values[':stored']!,
    duplicateCount: values[':duplicates']!,
    storedAt: values[':at']!,
    storeMs: values[':ms']!,
  };
}

export interface DeliveryUnits {
  eventsPerDelivery: number;
  bodyBytes: number;
  headBytes: number;
  /** The receiver's conditional PutItem of the head (body parts, if any, included). */
  headPut: number;
  /** The head's byTime index entry. */
  byTime: number;
  /** The store function's UpdateItem of the head (status, counts). */
  statusUpdate: number;
  perDelivery: number;
  storageBytes: number;
}

/** Write units of one delivery record (head, index entry, status update) for `body`. */
export function deliveryUnits(body: string): DeliveryUnits {
  const { head, parts } = receiverItems(body);
  const headBytes = itemSize(head);
  const partUnits = parts.reduce((n, p) => n + units(itemSize(p)), 0);
  const headPut = units(headBytes) + partUnits;
  const byTimeBytes = keysOnlyEntryBytes(head, ['itemType', 'timeKey']);
  const statusUpdate = units(Math.max(headBytes, itemSize(storedHead(head))));
  return {
    eventsPerDelivery: Number(head.eventCount!.N),
    bodyBytes: Buffer.byteLength(body),
    headBytes,
    headPut,
    byTime: units(byTimeBytes),
    statusUpdate,
    perDelivery: headPut + units(byTimeBytes) + statusUpdate,
    storageBytes:
      itemSize(storedHead(head)) +
      STORAGE_OVERHEAD_BYTES +
      byTimeBytes +
      parts.reduce((n, p) => n + itemSize(p) + STORAGE_OVERHEAD_BYTES, 0),
  };
}

export interface WriteUnits {
  eventItemBytes: number;
  eventItem: number;
  byTime: number;
  byType: number;
  linkItems: number;
  links: number;
  /** The store function's writes per event: item, index entries, links. */
  perEvent: number;
  /** Its strongly consistent existence check (BatchGetItem), charged found or not. */
  readUnitsPerEvent: number;
  storageBytesPerEvent: number;
  /** The sample delivery (one event): its head, index entry and status update. */
  sampleDelivery: DeliveryUnits;
  /** perEvent + the sample delivery's writes: a one-event delivery end to end. */
  endToEndPerSampleEvent: number;
  /** What the event item would be with its JSON as text (it is stored gzipped when that saves a unit). */
  textEventItemBytes: number;
  textEventItem: number;
}

/** Write units of the sample delivery (one user.session.start event), from the items themselves. */
export function sampleWriteUnits(): WriteUnits {
  const plan = writePlan(SAMPLE_DELIVERY_TEXT);
  const item = plan.items[0]!;
  const eventBytes = itemSize(item);
  const byTimeBytes = keysOnlyEntryBytes(item, ['itemType', 'timeKey']);
  const byTypeBytes = keysOnlyEntryBytes(item, ['eventType', 'timeKey']);
  const links = plan.links.map((l) => units(itemSize(l))).reduce((a, b) => a + b, 0);
  const perEvent = units(eventBytes) + units(byTimeBytes) + units(byTypeBytes) + links;
  const asText: Item = { ...item, event: { S: eventJson(item) } };
  delete asText.eventGzip;
  const sampleDelivery = deliveryUnits(SAMPLE_DELIVERY_TEXT);
  return {
    eventItemBytes: eventBytes,
    eventItem: units(eventBytes),
    byTime: units(byTimeBytes),
    byType: units(byTypeBytes),
    linkItems: plan.links.length,
    links,
    perEvent,
    readUnitsPerEvent: 1,
    storageBytesPerEvent:
      eventBytes +
      STORAGE_OVERHEAD_BYTES +
      byTimeBytes +
      byTypeBytes +
      plan.links.reduce((n, l) => n + itemSize(l) + STORAGE_OVERHEAD_BYTES, 0),
    sampleDelivery,
    endToEndPerSampleEvent: perEvent + sampleDelivery.perDelivery,
    textEventItemBytes: itemSize(asText),
    textEventItem: units(itemSize(asText)),
  };
}

/**
 * The head put, the event put and the status update with ReturnConsumedCapacity INDEXES, to see
 * what DynamoDB Local reports. Local does not meter (it is not the service): whatever it returns
 * is shown as is.
 */
export async function reportedCapacity(
  client: DynamoDBClient,
  table: string,
): Promise<{ head?: ConsumedCapacity; event?: ConsumedCapacity; update?: ConsumedCapacity }> {
  const text = SAMPLE_DELIVERY_TEXT.replace(/f1d0b993-[\w-]+/g, `cost-${Date.now()}`).replace(
    /"eventId":\s*"[^"]+"/,
    `"eventId":"cost-${Date.now()}"`,
  );
  const { head } = receiverItems(text);
  const { ConsumedCapacity: headCapacity } = await client.send(
    new PutItemCommand({
      TableName: table,
      Item: head,
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  const plan = writePlan(text);
  const { ConsumedCapacity: event } = await client.send(
    new PutItemCommand({
      TableName: table,
      Item: plan.items[0]!,
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  const { ConsumedCapacity: update } = await client.send(
    new UpdateItemCommand({
      TableName: table,
      ...outcomeUpdate(head.deliveryId!.S!, {
        status: 'stored',
        storedCount: 1,
        duplicateCount: 0,
        storedAt: new Date().toISOString(),
        storeMs: 42,
      }),
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  return { head: headCapacity, event, update };
}

export interface MonthlyCost {
  eventsPerDelivery: number;
  deliveriesPerMonth: number;
  receiveBilledMs: number;
  storeBilledMs: number;
  apiGateway: number;
  lambda: number;
  dynamoDbWrites: number;
  dynamoDbReads: number;
  dynamoDbStorage: number;
  total: number;
}

/**
 * A month at Okta's cap, `delivery.eventsPerDelivery` events per POST: one receive invocation
 * per delivery lasting `receiveMs`, and `storeMs` of the store function per delivery (it takes
 * up to 10 deliveries an invocation: one request charge per invocation at most, counted per
 * delivery here, the upper bound).
 */
export function monthlyCost(
  wcu: WriteUnits,
  delivery: DeliveryUnits,
  receiveMs: number,
  storeMs: number,
  memoryMb: number,
): MonthlyCost {
  const events = OKTA_EVENTS_PER_DAY * DAYS_PER_MONTH;
  const deliveries = Math.ceil(events / delivery.eventsPerDelivery);
  const receiveBilledMs = Math.ceil(receiveMs); // Lambda bills by the millisecond, rounded up
  const storeBilledMs = Math.ceil(storeMs);
  const apiGateway = (deliveries / 1e6) * PRICES.httpApiPerMillionRequests;
  const lambda =
    ((2 * deliveries) / 1e6) * PRICES.lambdaPerMillionRequests +
    deliveries *
      ((receiveBilledMs + storeBilledMs) / 1000) *
      (memoryMb / 1024) *
      PRICES.lambdaArm64PerGbSecond;
  const writeUnits = events * wcu.perEvent + deliveries * delivery.perDelivery;
  const dynamoDbWrites = (writeUnits / 1e6) * PRICES.dynamoDbPerMillionWriteUnits;
  const dynamoDbReads =
    ((events * wcu.readUnitsPerEvent) / 1e6) * PRICES.dynamoDbPerMillionReadUnits;
  const storedBytesPerDay =
    OKTA_EVENTS_PER_DAY * wcu.storageBytesPerEvent +
    (OKTA_EVENTS_PER_DAY / delivery.eventsPerDelivery) * delivery.storageBytes;
  const storedGb = (RETENTION_DAYS * storedBytesPerDay) / 1024 ** 3;
  const dynamoDbStorage = storedGb * PRICES.dynamoDbStoragePerGbMonth;
  return {
    eventsPerDelivery: delivery.eventsPerDelivery,
    deliveriesPerMonth: deliveries,
    receiveBilledMs,
    storeBilledMs,
    apiGateway: round(apiGateway),
    lambda: round(lambda),
    dynamoDbWrites: round(dynamoDbWrites),
    dynamoDbReads: round(dynamoDbReads),
    dynamoDbStorage: round(dynamoDbStorage),
    total: round(apiGateway + lambda + dynamoDbWrites + dynamoDbReads + dynamoDbStorage),
  };
}
