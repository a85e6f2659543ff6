/**
 * What storing an event costs: DynamoDB write units from the receiver's actual items for Okta's
 * sample event, and a monthly bill at Okta's per-org cap. Write units: 1 WRU per started KB of
 * each item and of each index entry (KEYS_ONLY entries: keys + 100 bytes, always under 1 KB).
 * Storage: item sizes plus 100 bytes per item and per index entry, kept RETENTION_DAYS by TTL.
 */
import {
  type ConsumedCapacity,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  BatchWriteItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Item, deliveryUpdate, itemSize } from '../lib/store/event-items';
import { round } from './stats';
import { SAMPLE_DELIVERY_TEXT, writePlan } from './workload';

/**
 * us-east-1 on-demand prices. From AWS's public price pages as summarised in mid-2025 (DynamoDB
 * after its 1 Nov 2024 on-demand reduction); no free tier counted.
 */
export const PRICES = {
  region: 'us-east-1',
  priceListDate: '2025-07 (DynamoDB on-demand prices in force since 2024-11-01)',
  httpApiPerMillionRequests: 1.0,
  lambdaArm64PerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamoDbPerMillionWriteUnits: 0.625,
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

export interface WriteUnits {
  eventItemBytes: number;
  eventItem: number;
  byTime: number;
  byType: number;
  linkItems: number;
  links: number;
  /** Per delivery (UpdateItem of the delivery record and its byTime entry). */
  deliveryRecord: number;
  perEvent: number;
  storageBytesPerEvent: number;
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
  // The delivery record: its item (with the event's uuid) and its byTime entry.
  const deliveryRecord = 2;
  const storageBytesPerEvent =
    eventBytes +
    STORAGE_OVERHEAD_BYTES +
    byTimeBytes +
    byTypeBytes +
    plan.links.reduce((n, l) => n + itemSize(l) + STORAGE_OVERHEAD_BYTES, 0);
  return {
    eventItemBytes: eventBytes,
    eventItem: units(eventBytes),
    byTime: units(byTimeBytes),
    byType: units(byTypeBytes),
    linkItems: plan.links.length,
    links,
    deliveryRecord,
    perEvent,
    storageBytesPerEvent,
  };
}

/**
 * The same writes with ReturnConsumedCapacity INDEXES, to see what DynamoDB Local reports.
 * Local does not meter (it is not the service): whatever it returns is shown as is.
 */
export async function reportedCapacity(
  client: DynamoDBClient,
  table: string,
): Promise<{ put?: ConsumedCapacity; links?: ConsumedCapacity[]; update?: ConsumedCapacity }> {
  const plan = writePlan(SAMPLE_DELIVERY_TEXT.replace(/f1d0b993-[\w-]+/g, `cost-${Date.now()}`));
  const { ConsumedCapacity: links } = await client.send(
    new BatchWriteItemCommand({
      RequestItems: { [table]: plan.links.map((Item) => ({ PutRequest: { Item } })) },
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  const { ConsumedCapacity: put } = await client.send(
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
      ...deliveryUpdate(plan.delivery, plan.meta, { storedCount: 1, duplicateCount: 0 }),
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  return { put, links, update };
}

export interface MonthlyCost {
  eventsPerDelivery: number;
  deliveriesPerMonth: number;
  lambdaBilledMs: number;
  apiGateway: number;
  lambda: number;
  dynamoDbWrites: number;
  dynamoDbStorage: number;
  total: number;
}

/** A month at Okta's cap, `eventsPerDelivery` events per POST, each invocation `lambdaMs` long. */
export function monthlyCost(
  wcu: WriteUnits,
  eventsPerDelivery: number,
  lambdaMs: number,
  memoryMb: number,
): MonthlyCost {
  const events = OKTA_EVENTS_PER_DAY * DAYS_PER_MONTH;
  const deliveries = Math.ceil(events / eventsPerDelivery);
  const billedMs = Math.ceil(lambdaMs); // Lambda bills by the millisecond, rounded up
  const apiGateway = (deliveries / 1e6) * PRICES.httpApiPerMillionRequests;
  const lambda =
    (deliveries / 1e6) * PRICES.lambdaPerMillionRequests +
    deliveries * (billedMs / 1000) * (memoryMb / 1024) * PRICES.lambdaArm64PerGbSecond;
  const writeUnits = events * wcu.perEvent + deliveries * wcu.deliveryRecord;
  const dynamoDbWrites = (writeUnits / 1e6) * PRICES.dynamoDbPerMillionWriteUnits;
  const storedGb = (OKTA_EVENTS_PER_DAY * RETENTION_DAYS * wcu.storageBytesPerEvent) / 1024 ** 3;
  const dynamoDbStorage = storedGb * PRICES.dynamoDbStoragePerGbMonth;
  return {
    eventsPerDelivery,
    deliveriesPerMonth: deliveries,
    lambdaBilledMs: billedMs,
    apiGateway: round(apiGateway),
    lambda: round(lambda),
    dynamoDbWrites: round(dynamoDbWrites),
    dynamoDbStorage: round(dynamoDbStorage),
    total: round(apiGateway + lambda + dynamoDbWrites + dynamoDbStorage),
  };
}
