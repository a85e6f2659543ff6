/**
 * The access patterns over stored events and deliveries. Every listing is one DynamoDB Query
 * (never a Scan), newest first, followed by BatchGetItem for the items themselves (the indexes
 * are KEYS_ONLY). Shared by the read API and the local CLI.
 *
 *   events of a type      Query byType   eventType = T   AND timeKey in range
 *   events about a user   Query table    pk = USER#u     AND sk in range     (link items)
 *   all events            Query byTime   itemType=event  AND timeKey in range
 *   deliveries            Query byTime   itemType=delivery AND timeKey in range
 *   event types present   Query table    pk = EVENTTYPE                   (registry items)
 *   an event's deliveries Query table    pk = EVENT#<uuid> AND sk from DELIVERY# to EVENT
 *   a delivery's events   GetItem DELIVERY#<id> (its body lists them) + BatchGetItem
 *
 * Counts over time (the event browser's chart) read the same key ranges, keys only: see
 * countEvents.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { CursorSigner, invalidCursor } from './cursor';
import { RequestError } from '../errors';
import { quoted } from '../printable';
import { parseDelivery } from '../okta/okta-contract';
import {
  CARRIED_BY_PREFIX,
  DELIVERY_PREFIX,
  EVENT_PREFIX,
  EVENT_TYPE_PK,
  type Item,
  TIME_INDEX,
  TYPE_INDEX,
  eventJson,
  eventKey,
  userPk,
} from './event-items';
import { DELIVERY_SK, type DeliveryStatus, deliveryKey } from './delivery-items';
import { DeliveryStore } from './delivery-store';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;
/**
 * Lambda caps a response at 6 MB of payload: a page stops growing once its items take this many
 * bytes as sent (see payloadBytes), and its cursor resumes after the last one. The rest is room
 * for the envelope; a single item over it is a page of its own (the read API gzips it).
 */
export const MAX_PAGE_BYTES = 5 * 1024 * 1024;
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

/** What the table knows about a listed event beyond its JSON: how it reached us. */
export interface EventMeta {
  uuid: string;
  receivedAt?: string;
  deliveryId?: string;
  /** How the event was stored (`hook`, `systemLog`) when the item records it. */
  origin?: string;
}

export interface EventTypeRecord {
  eventType: string;
  /** When a delivery carrying this type was last received. */
  lastSeenAt: string;
}

export interface CountQuery extends TimeRange {
  type?: string;
  user?: string;
}

export interface CountBucket {
  /** Inclusive. */
  start: string;
  /** Exclusive. */
  end: string;
  /** null when the time budget ran out before this bucket was counted. */
  count: number | null;
}

export interface EventCounts {
  /** The range counted: as asked, or the first and last event of the filter when left open. */
  since: string | null;
  until: string | null;
  bucketSeconds: number;
  /** Oldest first; the first and last may be shorter than bucketSeconds. */
  buckets: CountBucket[];
  /** Sum of the counted buckets. */
  total: number;
  /** False when some bucket could not be counted within the time budget. */
  complete: boolean;
  /** DynamoDB read capacity units the counting consumed. */
  readUnits: number;
}

/** Most bars a chart gets: readable on a 390 px wide screen as on 1280 px. */
export const MAX_BUCKETS = 60;
/** Bucket widths in seconds, aligned to UTC; the smallest giving at most MAX_BUCKETS wins. */
const BUCKET_WIDTHS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
  604800, 2592000, 7776000, 31536000,
];
/** Parallel count queries: as the write path, enough to hide latency without self-throttling. */
const COUNT_CONCURRENCY = 8;
/** Times canonicalTime can produce; keys outside (published that was no time) are not counted. */
const FIRST_TIME = '1970-01-01T00:00:00.000Z';
const LAST_TIME = '9999-12-31T23:59:59.999Z';

/**
 * Bucket boundaries for [sinceMs, untilMs): the range's own ends, and UTC-aligned multiples of
 * the smallest width in BUCKET_WIDTHS that gives at most `maxBuckets` buckets.
 */
export function bucketEdges(
  sinceMs: number,
  untilMs: number,
  maxBuckets = MAX_BUCKETS,
): { widthSeconds: number; edges: number[] } {
  // Aligned buckets touched by [since, until): the partial first and last ones count too.
  const buckets = (w: number) => Math.ceil(untilMs / (w * 1000)) - Math.floor(sinceMs / (w * 1000));
  const widthSeconds =
    BUCKET_WIDTHS.find((w) => buckets(w) <= maxBuckets) ??
    Math.ceil((untilMs - sinceMs) / 1000 / (maxBuckets - 1));
  const width = widthSeconds * 1000;
  const edges = [sinceMs];
  for (let t = Math.floor(sinceMs / width) * width + width; t < untilMs; t += width) edges.push(t);
  edges.push(untilMs);
  return { widthSeconds, edges };
}

/** The time part of a timeKey or link sk (`<ISO time>#<uuid>`). */
function timeOf(key: string | undefined): string {
  return (key ?? '').split('#', 1)[0]!;
}

/** Index of the bucket holding `time` (canonical ISO strings compare as times). */
function bucketOf(edges: string[], time: string): number {
  let low = 0;
  let high = edges.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (edges[mid]! <= time) low = mid;
    else high = mid - 1;
  }
  return low;
}

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
  /** Deliveries that came later with this eventId but another body (kept under their own ids). */
  otherBodies?: string[];
  /** For such a later delivery: the id of the delivery that holds its eventId. */
  sameEventIdAs?: string;
  /** Events whose uuid was already stored with different text (the first text was kept). */
  conflictCount?: number;
  /** Up to CONFLICT_UUIDS of those uuids. */
  conflictUuids?: string[];
  /** The request headers kept (never the auth header or a signature). */
  headers: Record<string, string>;
}

/**
 * Bytes a JSON text takes in Lambda's response payload, which carries the body as a JSON string:
 * each quote and backslash is escaped once more, a control character's \u escape gets one more
 * backslash, and the rest counts in UTF-8 bytes. String length undercounts all three.
 */
export function payloadBytes(json: string): number {
  return Buffer.byteLength(JSON.stringify(json)) - 2;
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

/** One delivery that carried an event. */
export interface EventDelivery {
  deliveryId: string;
  /** True for the delivery whose receipt stored the event; false for a later one carrying it again. */
  first: boolean;
  /** When that delivery was first received, as recorded beside the event. */
  receivedAt?: string;
  /** The delivery's record; null when it is no longer stored (expired, or deleted). */
  record: DeliveryRecord | null;
}

export interface EventDeliveries {
  uuid: string;
  /** How the event was first stored (`hook`, `systemLog`) when the item records it. */
  origin?: string;
  /** The first delivery first, then later ones by receipt. */
  deliveries: EventDelivery[];
}

/** A page of a delivery's events, in the order the delivery carried them. */
export interface DeliveryEventsPage extends Page<string> {
  meta: EventMeta[];
  /** uuids on this page that the delivery carries but the table does not hold (yet). */
  notStored: string[];
}

function badParameter(message: string): RequestError {
  return new RequestError(400, 'invalid_parameter', message);
}

/**
 * An ISO 8601 date (2026-11-01, that day in UTC) or date-time with a zone (2026-11-01T08:00:00Z,
 * 2026-11-01T10:00:00+02:00) → canonical ISO time. A time of day without a zone is refused:
 * JavaScript would read it in the local zone of whatever machine parses it, so the same command
 * would mean different instants on a laptop and in Lambda (UTC).
 */
export function parseTime(value: string, name: string): string {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(
      value,
    );
  // Date.parse rolls 2026-02-30 over to March: check the calendar fields themselves.
  const [, y, mo, d, h, mi = '0', sec = '0', zone] = match ?? [];
  const calendarOk =
    match !== null &&
    new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() === Number(d) &&
    Number(mo) >= 1 &&
    Number(mo) <= 12 &&
    Number(h ?? 0) < 24 &&
    Number(mi) < 60 &&
    Number(sec) < 60;
  if (calendarOk && h !== undefined && zone === undefined) {
    throw badParameter(
      `${name} ${quoted(value)} has a time of day but no time zone: add Z for UTC or an offset such as +02:00`,
    );
  }
  const ms = calendarOk ? Date.parse(h === undefined ? `${value}T00:00:00Z` : value) : NaN;
  if (!Number.isFinite(ms)) {
    throw badParameter(
      `${name} must be an ISO 8601 date or time such as 2026-11-01 or 2026-11-01T08:00:00Z, got ${quoted(value)}`,
    );
  }
  return new Date(ms).toISOString();
}

export function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_LIMIT) {
    throw badParameter(
      `limit must be a whole number from 1 to ${MAX_LIMIT}, got ${quoted(value, 40)}`,
    );
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
  index: string | undefined;
  hashAttribute: string;
  hashValue: string;
  rangeAttribute: string;
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
  private readonly cursors: CursorSigner;

  /** `cursorSecrets`: the stage's read API tokens, from which cursors' signing key is derived. */
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    options: { cursorSecrets?: readonly string[] } = {},
  ) {
    this.cursors = new CursorSigner(tableName, options.cursorSecrets);
  }

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
  async countEvents(
    query: CountQuery,
    {
      deadline = Infinity,
      maxBuckets = MAX_BUCKETS,
      /** Tests: end the first page early, as DynamoDB's 1 MB would on a large range. */
      firstPageLimit = undefined as number | undefined,
    } = {},
  ): Promise<EventCounts> {
    checkRange(query);
    const plan = this.planEventQuery(query);
    const counter = { readUnits: 0 };
    const since = query.since ?? (await this.extent(plan, true, counter));
    const until =
      query.until ?? (await this.extent(plan, false, counter).then((t) => t && nextMs(t)));
    if (since === undefined || until === undefined || since >= until) {
      return {
        since: since ?? null,
        until: until ?? null,
        bucketSeconds: 0,
        buckets: [],
        total: 0,
        complete: true,
        readUnits: counter.readUnits,
      };
    }
    const { widthSeconds, edges: edgeMs } = bucketEdges(
      Date.parse(since),
      Date.parse(until),
      maxBuckets,
    );
    const edges = edgeMs.map((ms) => new Date(ms).toISOString());
    const counts =
      query.user && query.type
        ? await this.countIntersection(query.user, query.type, edges, deadline, counter)
        : await this.countRange(plan, edges, deadline, counter, firstPageLimit);
    const buckets = counts.map((count, i) => ({ start: edges[i]!, end: edges[i + 1]!, count }));
    return {
      since,
      until,
      bucketSeconds: widthSeconds,
      buckets,
      total: counts.reduce<number>((sum, n) => sum + (n ?? 0), 0),
      complete: counts.every((n) => n !== null),
      readUnits: counter.readUnits,
    };
  }

  /** The time of the filter's oldest (or newest) event, by one key read. */
  private async extent(
    plan: PlannedQuery,
    oldest: boolean,
    counter: { readUnits: number },
  ): Promise<string | undefined> {
    const { Items = [], ConsumedCapacity } = await this.client.send(
      new QueryCommand({
        ...this.rangeInput(plan, FIRST_TIME, LAST_TIME),
        ScanIndexForward: oldest,
        Limit: 1,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    counter.readUnits += ConsumedCapacity?.CapacityUnits ?? 0;
    const time = timeOf(Items[0]?.[plan.rangeAttribute]?.S);
    return time === '' ? undefined : time;
  }

  /** A keys-only Query input for the plan's partition and [since, until). */
  private rangeInput(plan: PlannedQuery, since: string, until: string) {
    return {
      TableName: this.tableName,
      IndexName: plan.index,
      KeyConditionExpression: '#h = :hash AND #r BETWEEN :since AND :until',
      ExpressionAttributeNames: {
        '#h': plan.hashAttribute,
        '#r': plan.rangeAttribute,
      } as Record<string, string>,
      ExpressionAttributeValues: {
        ':hash': { S: plan.hashValue },
        ':since': { S: since },
        ':until': { S: until },
      },
    };
  }

  private async countRange(
    plan: PlannedQuery,
    edges: string[],
    deadline: number,
    counter: { readUnits: number },
    firstPageLimit: number | undefined,
  ): Promise<(number | null)[]> {
    const last = edges.length - 1;
    const counts: (number | null)[] = new Array<number | null>(last).fill(0);
    const first = await this.client.send(
      new QueryCommand({
        ...this.rangeInput(plan, edges[0]!, edges[last]!),
        ProjectionExpression: '#r',
        ScanIndexForward: false,
        Limit: firstPageLimit,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    counter.readUnits += first.ConsumedCapacity?.CapacityUnits ?? 0;
    for (const key of first.Items ?? []) {
      counts[bucketOf(edges, timeOf(key[plan.rangeAttribute]?.S))]!++;
    }
    const stop = first.LastEvaluatedKey;
    if (!stop) return counts;

    // The page ended inside bucket k: count the rest of k from there, and older buckets whole.
    const k = bucketOf(edges, timeOf(stop[plan.rangeAttribute]?.S));
    const tasks = Array.from({ length: k + 1 }, (_, i) => async () => {
      let startKey = i === k ? stop : undefined;
      let n = 0;
      do {
        if (Date.now() > deadline) {
          counts[i] = null;
          return;
        }
        const page = await this.client.send(
          new QueryCommand({
            ...this.rangeInput(plan, edges[i]!, edges[i + 1]!),
            Select: 'COUNT',
            ScanIndexForward: false,
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        counter.readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
        n += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      counts[i] = counts[i]! + n;
    });
    const queue = tasks.values();
    await Promise.all(
      Array.from({ length: Math.min(COUNT_CONCURRENCY, tasks.length) }, async () => {
        for (const task of queue) await task();
      }),
    );
    return counts;
  }

  /** A type and a user: the user's links and the type's keys in the range, intersected. */
  private async countIntersection(
    user: string,
    type: string,
    edges: string[],
    deadline: number,
    counter: { readUnits: number },
  ): Promise<(number | null)[]> {
    const since = edges[0]!;
    const until = edges[edges.length - 1]!;
    const userPlan = this.plan(undefined, 'pk', userPk(user), 'sk', {}, '');
    const typePlan = this.plan(TYPE_INDEX, 'eventType', type, 'timeKey', {}, '');
    const linked = new Map<string, string>(); // uuid -> time
    const ofType = new Set<string>();
    const complete =
      (await this.readKeys(userPlan, since, until, ['uuid', 'sk'], deadline, counter, (key) =>
        linked.set(key.uuid?.S ?? '', timeOf(key.sk?.S)),
      )) &&
      (await this.readKeys(typePlan, since, until, ['pk'], deadline, counter, (key) =>
        ofType.add(key.pk!.S!.slice(EVENT_PREFIX.length)),
      ));
    const counts: (number | null)[] = new Array<number | null>(edges.length - 1).fill(
      complete ? 0 : null,
    );
    if (!complete) return counts;
    for (const [uuid, time] of linked) if (ofType.has(uuid)) counts[bucketOf(edges, time)]!++;
    return counts;
  }

  /** Every key of a range, page after page; false when the deadline stopped it. */
  private async readKeys(
    plan: PlannedQuery,
    since: string,
    until: string,
    projection: string[],
    deadline: number,
    counter: { readUnits: number },
    onKey: (key: Item) => void,
  ): Promise<boolean> {
    let startKey: Item | undefined;
    do {
      if (Date.now() > deadline) return false;
      const input = this.rangeInput(plan, since, until);
      projection.forEach((name, i) => (input.ExpressionAttributeNames[`#p${i}`] = name));
      const page = await this.client.send(
        new QueryCommand({
          ...input,
          ProjectionExpression: projection.map((_, i) => `#p${i}`).join(', '),
          ExclusiveStartKey: startKey,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      counter.readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
      for (const key of page.Items ?? []) onKey(key);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return true;
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

  /**
   * The page: found items (undefined where a key found none) in key order, until they reach
   * MAX_PAGE_BYTES as sent; the cursor resumes after the last key taken.
   */
  private fillPage<T>(
    plan: PlannedQuery,
    keys: Item[],
    lastEvaluatedKey: Item | undefined,
    found: Array<T | undefined>,
    jsonOf: (item: T) => string,
  ): Page<T> {
    const items: T[] = [];
    let bytes = 0;
    for (const [i, item] of found.entries()) {
      if (item === undefined) continue;
      const size = payloadBytes(jsonOf(item)) + 1; // and its comma
      if (items.length > 0 && bytes + size > MAX_PAGE_BYTES) {
        return { items, nextCursor: this.cursor(plan, keys[i - 1]!) };
      }
      bytes += size;
      items.push(item);
    }
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
      index,
      hashAttribute,
      hashValue,
      rangeAttribute,
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
    const startKey = page.cursor === undefined ? undefined : this.startKey(plan, page.cursor);
    try {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          ...plan.input,
          ScanIndexForward: false,
          Limit: page.limit ?? DEFAULT_LIMIT,
          ExclusiveStartKey: startKey,
        }),
      );
      return { keys: Items, lastEvaluatedKey: LastEvaluatedKey };
    } catch (error) {
      // A signed start key DynamoDB still refuses (e.g. outside the query's bounds) is the
      // cursor's fault, not a failure of the service.
      if (startKey && (error as Error).name === 'ValidationException') throw invalidCursor();
      throw error;
    }
  }

  /** The cursor's start key, when it is signed, made for this query, and shaped like its keys. */
  private startKey(plan: PlannedQuery, cursor: string): Item {
    const key = this.cursors.decode(cursor, plan.scope);
    const names = Object.keys(key).sort().join();
    if (
      names !== [...plan.keyNames].sort().join() ||
      key[plan.hashAttribute]?.S !== plan.hashValue
    ) {
      throw invalidCursor();
    }
    return key;
  }

  private cursor(plan: PlannedQuery, item: Item): string {
    const key: Item = {};
    for (const name of plan.keyNames) key[name] = item[name]!;
    return this.cursors.encode(key, plan.scope);
  }

  /**
   * Items by key, as a map from pk; retries keys DynamoDB leaves unprocessed. `attributes`
   * (pk among them) leaves the rest out of the answer, such as a delivery's body.
   */
  private async batchGet(keys: Item[], attributes?: string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const unique = [...new Map(keys.map((k) => [k.pk!.S!, k])).values()];
    const projection = attributes && {
      ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
    };
    for (let i = 0; i < unique.length; i += BATCH_GET_SIZE) {
      let pending: Item[] = unique.slice(i, i + BATCH_GET_SIZE);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ...projection } },
          }),
        );
        for (const item of Responses?.[this.tableName] ?? []) found.set(item.pk!.S!, item);
        pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}

/** The ISO time one millisecond later: an exclusive end that still holds events at `time`. */
function nextMs(time: string): string {
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? new Date(ms + 1).toISOString() : time;
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

function metaOf(uuid: string, item: Item): EventMeta {
  const meta: EventMeta = { uuid };
  for (const name of ['receivedAt', 'deliveryId', 'origin'] as const) {
    if (item[name]?.S !== undefined) meta[name] = item[name].S;
  }
  return meta;
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
