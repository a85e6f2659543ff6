/**
 * The access patterns over stored events and deliveries. Every listing is one DynamoDB Query
 * (never a Scan), newest first, followed by BatchGetItem for the items themselves (the indexes
 * are KEYS_ONLY). Shared by the read API and the local CLI.
 *
 *   events of a type      Query byType   eventType = T   AND timeKey in range
 *   events about a user   Query table    pk = USER#u     AND sk in range     (link items)
 *   all events            Query byTime   itemType=event  AND timeKey in range
 *   deliveries            Query byTime   itemType=delivery AND timeKey in range
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { decodeCursor, encodeCursor } from './cursor';
import { RequestError } from '../errors';
import {
  DELIVERY_PREFIX,
  EVENT_PREFIX,
  type Item,
  TIME_INDEX,
  TYPE_INDEX,
  eventJson,
  eventKey,
  userPk,
} from './event-items';
import { type DeliveryStatus, deliveryKey } from './delivery-items';
import { DeliveryStore } from './delivery-store';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;
/** Lambda responses are capped at 6 MB: a page stops growing past this, its cursor resumes. */
const MAX_PAGE_BYTES = 5 * 1024 * 1024;
const BATCH_GET_SIZE = 100;

export interface TimeRange {
  /** Inclusive, canonical ISO time. */
  since?: string;
  /** Exclusive, canonical ISO time. */
  until?: string;
}

export interface EventQuery extends TimeRange {
  type?: string;
  user?: string;
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A delivery as the read API and the CLI show it: the request as received, and its outcome. */
export interface DeliveryRecord {
  deliveryId: string;
  /** Envelope eventId as sent (the deliveryId unless that was too long or already taken). */
  eventId?: string;
  /** `received`: durable, events not yet written; `stored`: events written; `rejected`: never. */
  status: DeliveryStatus;
  firstReceivedAt: string;
  lastReceivedAt: string;
  /** How many times it was received (Okta's and Hookdeck's retries of the same delivery). */
  attempts: number;
  eventCount: number;
  eventTypes: string[];
  storedCount?: number;
  duplicateCount?: number;
  storedAt?: string;
  storeMs?: number;
  rejectReason?: string;
  source?: string;
  eventTime?: string;
  hookdeckEventId?: string;
  caller?: string;
  sourceIp?: string;
  requestId?: string;
  bodyBytes?: number;
  /** The request headers kept (never the auth header or a signature). */
  headers: Record<string, string>;
}

function badParameter(message: string): RequestError {
  return new RequestError(400, 'invalid_parameter', message);
}

/** An ISO 8601 date (2026-11-01) or date-time (2026-11-01T08:00:00Z) → canonical ISO time. */
export function parseTime(value: string, name: string): string {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(
      value,
    );
  // Date.parse rolls 2026-02-30 over to March: check the calendar fields themselves.
  const [, y, mo, d, h = '0', mi = '0', sec = '0'] = match ?? [];
  const calendarOk =
    match !== null &&
    new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() === Number(d) &&
    Number(mo) >= 1 &&
    Number(mo) <= 12 &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(sec) < 60;
  const ms = calendarOk ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : NaN;
  if (!Number.isFinite(ms)) {
    throw badParameter(
      `${name} must be an ISO 8601 date or time such as 2026-11-01 or 2026-11-01T08:00:00Z, got "${value.slice(0, 100)}"`,
    );
  }
  return new Date(ms).toISOString();
}

export function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_LIMIT) {
    throw badParameter(`limit must be a whole number from 1 to ${MAX_LIMIT}, got "${value}"`);
  }
  return limit;
}

export function checkRange(range: TimeRange): void {
  if (range.since && range.until && range.since >= range.until) {
    throw badParameter(`since (${range.since}) must be earlier than until (${range.until})`);
  }
}

/** The sort-key condition for a time range over keys shaped `<ISO time>#...`. */
function rangeCondition(
  attribute: string,
  range: TimeRange,
  values: Record<string, AttributeValue>,
): string {
  if (range.since) values[':since'] = { S: range.since };
  if (range.until) values[':until'] = { S: range.until };
  // until is exclusive: '<until>#x' sorts after '<until>', so BETWEEN leaves it out.
  if (range.since && range.until) return ` AND ${attribute} BETWEEN :since AND :until`;
  if (range.since) return ` AND ${attribute} >= :since`;
  if (range.until) return ` AND ${attribute} < :until`;
  return '';
}

interface PlannedQuery {
  input: {
    TableName: string;
    IndexName: string | undefined;
    KeyConditionExpression: string;
    ExpressionAttributeValues: Record<string, AttributeValue>;
  };
  keyNames: string[];
  scope: string;
}

export class EventQueries {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** The stored JSON text of one event, exactly as Okta sent it. */
  async getEventJson(uuid: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: eventKey(uuid), ConsistentRead: true }),
    );
    return Item && eventJson(Item);
  }

  /** Events newest first by `published`; items are each event's JSON text as Okta sent it. */
  async listEvents(query: EventQuery): Promise<Page<string>> {
    checkRange(query);
    const plan = this.planEventQuery(query);
    const { keys, lastEvaluatedKey } = await this.query(plan, query);
    const uuids = keys.map((key) => key.uuid?.S ?? key.pk!.S!.slice(EVENT_PREFIX.length));
    const events = await this.batchGet(uuids.map(eventKey));

    const items: string[] = [];
    let bytes = 0;
    for (const [i, uuid] of uuids.entries()) {
      const event = events.get(EVENT_PREFIX + uuid);
      // A link can outlive a failed first write of its event, and a type+user listing filters here.
      if (!event) continue;
      if (query.type && event.eventType?.S !== query.type) continue;
      if (query.user && !event.userKeys?.L?.some((k) => k.S === query.user!.toLowerCase()))
        continue;
      const json = eventJson(event);
      if (items.length > 0 && bytes + json.length > MAX_PAGE_BYTES) {
        return { items, nextCursor: this.cursor(plan, keys[i - 1]!) };
      }
      bytes += json.length;
      items.push(json);
    }
    return { items, nextCursor: lastEvaluatedKey ? this.cursor(plan, lastEvaluatedKey) : null };
  }

  /** One delivery and its request body as received (UTF-8 text, as Okta sent it). */
  async getDelivery(deliveryId: string): Promise<(DeliveryRecord & { body: string }) | undefined> {
    const deliveries = new DeliveryStore(this.client, this.tableName);
    const item = await deliveries.get(deliveryId);
    if (!item || item.sk?.S !== 'DELIVERY') return undefined;
    // Records from before deliveries were stored first have no body.
    const body =
      item.body?.B || item.bodyParts ? (await deliveries.body(item)).toString('utf8') : '';
    return { ...toDeliveryRecord(item), body };
  }

  /** Deliveries newest first by first receipt. */
  async listDeliveries(
    query: TimeRange & { limit?: number; cursor?: string },
  ): Promise<Page<DeliveryRecord>> {
    checkRange(query);
    const scope = `deliveries|${query.since ?? ''}|${query.until ?? ''}`;
    const plan = this.plan(TIME_INDEX, 'itemType', 'delivery', 'timeKey', query, scope);
    const { keys, lastEvaluatedKey } = await this.query(plan, query);
    const ids = keys.map((key) => key.pk!.S!.slice(DELIVERY_PREFIX.length));
    const records = await this.batchGet(ids.map(deliveryKey));
    const items = ids
      .map((id) => records.get(DELIVERY_PREFIX + id))
      .filter((item): item is Item => item !== undefined)
      .map(toDeliveryRecord);
    return { items, nextCursor: lastEvaluatedKey ? this.cursor(plan, lastEvaluatedKey) : null };
  }

  private planEventQuery(query: EventQuery): PlannedQuery {
    const bounds = `${query.since ?? ''}|${query.until ?? ''}`;
    if (query.user) {
      const scope = `user:${query.user.toLowerCase()}|type:${query.type ?? ''}|${bounds}`;
      return this.plan(undefined, 'pk', userPk(query.user), 'sk', query, scope);
    }
    if (query.type) {
      return this.plan(
        TYPE_INDEX,
        'eventType',
        query.type,
        'timeKey',
        query,
        `type:${query.type}|${bounds}`,
      );
    }
    return this.plan(TIME_INDEX, 'itemType', 'event', 'timeKey', query, `all|${bounds}`);
  }

  /** A Query on the table (index undefined) or an index: one partition, a time range on its sort key. */
  private plan(
    index: string | undefined,
    hashAttribute: string,
    hashValue: string,
    rangeAttribute: string,
    range: TimeRange,
    scope: string,
  ): PlannedQuery {
    const values: Record<string, AttributeValue> = { ':hash': { S: hashValue } };
    const condition = `${hashAttribute} = :hash${rangeCondition(rangeAttribute, range, values)}`;
    return {
      input: {
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
      },
      // ExclusiveStartKey: the table's key, plus the index's own key when querying an index.
      keyNames: index ? ['pk', 'sk', hashAttribute, rangeAttribute] : ['pk', 'sk'],
      scope,
    };
  }

  private async query(plan: PlannedQuery, page: { limit?: number; cursor?: string }) {
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        ...plan.input,
        ScanIndexForward: false,
        Limit: page.limit ?? DEFAULT_LIMIT,
        ExclusiveStartKey: page.cursor
          ? decodeCursor(page.cursor, plan.scope, this.tableName)
          : undefined,
      }),
    );
    return { keys: Items, lastEvaluatedKey: LastEvaluatedKey };
  }

  private cursor(plan: PlannedQuery, item: Item): string {
    const key: Item = {};
    for (const name of plan.keyNames) key[name] = item[name]!;
    return encodeCursor(key, plan.scope, this.tableName);
  }

  /** Items by key, as a map from pk; retries keys DynamoDB leaves unprocessed. */
  private async batchGet(keys: Item[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const unique = [...new Map(keys.map((k) => [k.pk!.S!, k])).values()];
    for (let i = 0; i < unique.length; i += BATCH_GET_SIZE) {
      let pending: Item[] = unique.slice(i, i + BATCH_GET_SIZE);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        for (const item of Responses?.[this.tableName] ?? []) found.set(item.pk!.S!, item);
        pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}

export function toDeliveryRecord(item: Item): DeliveryRecord {
  const n = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  const strings = (name: string) => (item[name]?.L ?? []).map((v) => v.S ?? '');
  const record: DeliveryRecord = {
    deliveryId: item.deliveryId?.S ?? '',
    // Records from before deliveries were stored first were written once their events were.
    status: (item.status?.S as DeliveryStatus | undefined) ?? 'stored',
    firstReceivedAt: item.firstReceivedAt?.S ?? '',
    lastReceivedAt: item.lastReceivedAt?.S ?? '',
    attempts: n('attempts') ?? n('acceptedCount') ?? 1,
    eventCount: n('eventCount') ?? 0,
    eventTypes: strings('eventTypes'),
    headers: Object.fromEntries(
      Object.entries(item.headers?.M ?? {}).map(([k, v]) => [k, v.S ?? '']),
    ),
  };
  for (const name of ['storedCount', 'duplicateCount', 'storeMs', 'bodyBytes'] as const) {
    const value = n(name);
    if (value !== undefined) record[name] = value;
  }
  for (const name of [
    'eventId',
    'storedAt',
    'rejectReason',
    'source',
    'eventTime',
    'hookdeckEventId',
    'caller',
    'sourceIp',
    'requestId',
  ] as const) {
    if (item[name]?.S !== undefined) record[name] = item[name].S;
  }
  return record;
}
