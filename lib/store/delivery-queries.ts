/**
 * Reading deliveries: one with its body as received, the deliveries that carried an event, the
 * events a delivery carried, and deliveries by time and status.
 *
 *   deliveries            Query byTime   itemType=delivery AND timeKey in range
 *   an event's deliveries Query table    pk = EVENT#<uuid> AND sk from DELIVERY# to EVENT
 *   a delivery's events   GetItem DELIVERY#<id> (its body lists them) + BatchGetItem
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { invalidCursor } from './cursor';
import { RequestError } from '../errors';
import { quoted } from '../printable';
import { parseDelivery } from '../okta/okta-contract';
import {
  CARRIED_BY_PREFIX,
  DELIVERY_PREFIX,
  EVENT_PREFIX,
  type Item,
  TIME_INDEX,
  eventJson,
  eventKey,
} from './event-items';
import { DELIVERY_SK, type DeliveryStatus, deliveryKey } from './delivery-items';
import { DeliveryStore } from './delivery-store';
import { type EventMeta, KeyedQueries, metaOf } from './keyed-query';
import type { DeliveryRecord, EventDeliveries, EventDelivery } from './read-records';
import {
  DEFAULT_LIMIT,
  MAX_PAGE_BYTES,
  type Page,
  type TimeRange,
  badParameter,
  checkRange,
  payloadBytes,
} from './query-parameters';

export type { DeliveryRecord, EventDeliveries, EventDelivery };

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['received', 'stored', 'rejected'];

export interface DeliveryQuery extends TimeRange {
  status?: DeliveryStatus;
  limit?: number;
  cursor?: string;
}

/** A `status` parameter or option: one of DELIVERY_STATUSES. */
export function parseDeliveryStatus(value: string, name = 'status'): DeliveryStatus {
  if (!(DELIVERY_STATUSES as readonly string[]).includes(value)) {
    throw badParameter(
      `${name} must be one of ${DELIVERY_STATUSES.join(', ')}, got ${quoted(value, 40)}`,
    );
  }
  return value as DeliveryStatus;
}

/** The attributes of a delivery's head that make its record: all but the body. */
const DELIVERY_RECORD_ATTRIBUTES = [
  'pk',
  'deliveryId',
  'eventId',
  'status',
  'firstReceivedAt',
  'lastReceivedAt',
  'attempts',
  'acceptedCount',
  'eventCount',
  'eventTypes',
  'storedCount',
  'duplicateCount',
  'storedAt',
  'storeMs',
  'rejectReason',
  'source',
  'eventTime',
  'hookdeckEventId',
  'caller',
  'sourceIp',
  'requestId',
  'bodyBytes',
  'headers',
  'otherBodies',
  'sameEventIdAs',
  'conflictCount',
  'conflictUuids',
];

/** A page of a delivery's events, in the order the delivery carried them. */
export interface DeliveryEventsPage extends Page<string> {
  meta: EventMeta[];
  /** uuids on this page that the delivery carries but the table does not hold (yet). */
  notStored: string[];
}

export class DeliveryQueries extends KeyedQueries {
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

  /**
   * The deliveries that carried an event: the one that stored it (the event item's deliveryId)
   * and each later one (a `DELIVERY#<id>` item beside the event), with their records. One Query
   * over the event's partition from `DELIVERY#` to `EVENT` (reactions' items sort after it),
   * then one BatchGetItem of the records without their bodies. Undefined when no such event.
   */
  async listEventDeliveries(uuid: string): Promise<EventDeliveries | undefined> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :carried AND :event',
          ExpressionAttributeValues: {
            ':pk': { S: EVENT_PREFIX + uuid },
            ':carried': { S: CARRIED_BY_PREFIX },
            ':event': { S: 'EVENT' },
          },
          ProjectionExpression: 'sk, deliveryId, receivedAt, origin',
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const event = items.find((item) => item.sk?.S === 'EVENT');
    if (!event) return undefined;

    const firstId = event.deliveryId?.S;
    const carriers: Omit<EventDelivery, 'record'>[] = [];
    if (firstId)
      carriers.push({ deliveryId: firstId, first: true, receivedAt: event.receivedAt?.S });
    const later = items
      .filter((item) => item.sk!.S!.startsWith(CARRIED_BY_PREFIX))
      .map((item) => ({
        deliveryId: item.sk!.S!.slice(CARRIED_BY_PREFIX.length),
        first: false,
        receivedAt: item.receivedAt?.S,
      }))
      .filter((carrier) => carrier.deliveryId !== firstId)
      .sort((a, b) => (a.receivedAt ?? '').localeCompare(b.receivedAt ?? ''));
    carriers.push(...later);

    const records = await this.batchGet(
      carriers.map((c) => deliveryKey(c.deliveryId)),
      DELIVERY_RECORD_ATTRIBUTES,
    );
    const result: EventDeliveries = {
      uuid,
      deliveries: carriers.map((carrier) => {
        const item = records.get(DELIVERY_PREFIX + carrier.deliveryId);
        return { ...carrier, record: item ? toDeliveryRecord(item) : null };
      }),
    };
    if (event.origin?.S !== undefined) result.origin = event.origin.S;
    return result;
  }

  /**
   * The events a delivery carried, in its body's order (a uuid repeated within it once), each
   * as stored, with its meta; uuids the table does not hold (a delivery not yet stored) are
   * listed in `notStored`. The body is the list: no index by delivery is needed, so storing an
   * event costs nothing more. Undefined when no such delivery; a body that is not a valid
   * delivery (a rejected one) carries no events.
   */
  async listDeliveryEvents(
    deliveryId: string,
    page: { limit?: number; cursor?: string },
  ): Promise<DeliveryEventsPage | undefined> {
    const deliveries = new DeliveryStore(this.client, this.tableName);
    const head = await deliveries.get(deliveryId);
    if (!head || head.sk?.S !== DELIVERY_SK) return undefined;
    const uuids = head.body?.B || head.bodyParts ? carriedUuids(await deliveries.body(head)) : [];

    const scope = `delivery-events:${deliveryId}`;
    const start = page.cursor ? Number(this.cursors.decode(page.cursor, scope).next?.S) : 0;
    if (!Number.isSafeInteger(start) || start < 0) throw invalidCursor();
    const limit = page.limit ?? DEFAULT_LIMIT;
    const slice = uuids.slice(start, start + limit);
    const events = await this.batchGet(slice.map(eventKey));
    const items: string[] = [];
    const meta: EventMeta[] = [];
    const notStored: string[] = [];
    let bytes = 0;
    for (const [i, uuid] of slice.entries()) {
      const event = events.get(EVENT_PREFIX + uuid);
      if (!event) {
        notStored.push(uuid);
        continue;
      }
      const json = eventJson(event);
      if (items.length > 0 && bytes + payloadBytes(json) > MAX_PAGE_BYTES) {
        const next = this.cursors.encode({ next: { S: String(start + i) } }, scope);
        return { items, meta, notStored, nextCursor: next };
      }
      bytes += payloadBytes(json);
      items.push(json);
      meta.push(metaOf(uuid, event));
    }
    const end = start + slice.length;
    return {
      items,
      meta,
      notStored,
      nextCursor:
        end < uuids.length ? this.cursors.encode({ next: { S: String(end) } }, scope) : null,
    };
  }

  /** Deliveries newest first by first receipt. */
  async listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryRecord>> {
    checkRange(query);
    const scope = `deliveries|${query.since ?? ''}|${query.until ?? ''}|${query.status ?? ''}`;
    const plan = this.plan(TIME_INDEX, 'itemType', 'delivery', 'timeKey', query, scope);
    const { keys, lastEvaluatedKey } = await this.query(plan, query);
    const ids = keys.map((key) => key.pk!.S!.slice(DELIVERY_PREFIX.length));
    const records = await this.batchGet(ids.map(deliveryKey), DELIVERY_RECORD_ATTRIBUTES);
    // A status filter applies to the page read (as a FilterExpression would): a page may hold
    // fewer than `limit`, even none, and still have a cursor.
    const found = ids
      .map((id) => records.get(DELIVERY_PREFIX + id))
      .map((item) => item && toDeliveryRecord(item))
      .map((record) => (!query.status || record?.status === query.status ? record : undefined));
    // Bounded on the record as serialised, whatever fields it carries.
    return this.fillPage(plan, keys, lastEvaluatedKey, found, (record) => JSON.stringify(record));
  }
}

/** The uuids of a delivery body's events in order, each once; none when it is not a delivery. */
export function carriedUuids(body: Buffer): string[] {
  try {
    return [...new Set(parseDelivery(body).events.map(({ event }) => event.uuid))];
  } catch (error) {
    if (error instanceof RequestError) return [];
    throw error;
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
  if (item.otherBodies?.SS !== undefined) record.otherBodies = [...item.otherBodies.SS].sort();
  if (item.conflictUuids?.L !== undefined) record.conflictUuids = strings('conflictUuids');
  for (const name of [
    'storedCount',
    'duplicateCount',
    'storeMs',
    'bodyBytes',
    'conflictCount',
  ] as const) {
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
    'sameEventIdAs',
  ] as const) {
    if (item[name]?.S !== undefined) record[name] = item[name].S;
  }
  return record;
}
