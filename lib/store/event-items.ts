/**
 * How events are laid out in the one DynamoDB table (deliveries: delivery-items.ts). Pure
 * functions: no I/O.
 *
 *   pk                   sk                  indexed by                       what
 *   EVENT#<uuid>         EVENT               byTime (itemType='event',        one Okta LogEvent
 *                                            timeKey), byType (eventType,
 *                                            timeKey)
 *   EVENT#<uuid>         DELIVERY#<id>       (none)                           a later delivery that
 *                                                                             carried the event again
 *   USER#<id or login>   <timeKey>           (the table's own key)            link: this user is the
 *                                                                             event's actor or a target
 *   EVENTTYPE            <eventType>         (the table's own key)            registry: this type was
 *                                                                             stored, last seen when
 *
 * timeKey = <published as canonical ISO time>#<uuid>, so every listing is one Query ordered by
 * time. Both indexes are KEYS_ONLY: listings fetch the items themselves with BatchGetItem, which
 * keeps each index write at 1 WCU.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { compactJson } from '../okta/json-text';
import type { OktaLogEvent, ParsedEvent } from '../okta/okta-contract';

export type Item = Record<string, AttributeValue>;

export const EVENT_PREFIX = 'EVENT#';
export const DELIVERY_PREFIX = 'DELIVERY#';
export const USER_PREFIX = 'USER#';
/** Sort key prefix, under an event's pk, of the later deliveries that carried it. */
export const CARRIED_BY_PREFIX = 'DELIVERY#';
/** Partition of the event type registry: one item per eventType ever stored (a Query, no Scan). */
export const EVENT_TYPE_PK = 'EVENTTYPE';
export const TIME_INDEX = 'byTime';
export const TYPE_INDEX = 'byType';

/** DynamoDB's item limit is 400 KB, names and values included. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** A standard write unit covers 1 KB of an item. */
export const WRITE_UNIT_BYTES = 1024;

export function writeUnits(itemBytes: number): number {
  return Math.max(1, Math.ceil(itemBytes / WRITE_UNIT_BYTES));
}

/** Where a stored event came from: a hook delivery, or the System Log (the reconciler). */
export type EventOriginName = 'hook' | 'systemLog';

/** What is recorded with each event about the first receipt that stored it. */
export interface EventOrigin {
  origin: EventOriginName;
  receivedAt: string;
  /** TTL, epoch seconds; undefined keeps the items forever. */
  expiresAt: number | undefined;
  /** Hook deliveries only: the delivery's id (envelope eventId or a hash), and envelope fields. */
  deliveryId?: string;
  source?: string;
  eventTime?: string;
  hookdeckEventId?: string;
}

/** Expiry for items received at `receivedAt`: counted from receipt, so replayed old events live too. */
export function expiryFor(receivedAt: Date, retentionDays: number): number | undefined {
  return retentionDays > 0
    ? Math.floor(receivedAt.getTime() / 1000) + retentionDays * 86400
    : undefined;
}

/** Okta's `published` shape: an ISO 8601 date, or date-time with or without an offset. */
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Time keys of a `published` that is not a time start with this. Real times (1970 to 9999)
 * start with a digit from 1 to 9, so these sort below all of them: at the old end of every
 * listing. An event whose time is unknown cannot claim to be recent: there it no longer sits at
 * the top of every newest-first listing for ever, it stays reachable (the last pages, `until`),
 * and it falls outside every `since`, as an event of unknown time should.
 */
export const NOT_A_TIME_PREFIX = '0000-not-a-time:';

/**
 * Okta's `published` as a sortable canonical ISO string (a date-time without an offset is taken
 * as UTC, as Okta writes them, never as the machine's zone). A value that is not a time keeps at
 * most 64 code points of its text (the key stays far under DynamoDB's 1 KB sort key limit).
 */
export function canonicalTime(published: string): string {
  const iso = ISO_TIME.exec(published);
  const utc = iso && published.includes('T') && iso[1] === undefined ? `${published}Z` : published;
  const ms = iso ? Date.parse(utc) : NaN;
  if (Number.isFinite(ms) && ms >= 0 && ms < 253402300800000) return new Date(ms).toISOString();
  // 64 code points take at most 128 code units: cut there first, so a huge value costs nothing.
  const text = Array.from(published.slice(0, 128)).slice(0, 64).join('').toWellFormed();
  return NOT_A_TIME_PREFIX + text;
}

/** Longest user id or login that gets a link item; longer ones cannot be real Okta values. */
const MAX_USER_KEY_LENGTH = 512;

/**
 * The users an event is about: the actor (whatever its type) and targets of type User, each by
 * Okta id and by login (alternateId). Lower-cased: Okta logins are case-insensitive.
 */
export function userKeysOf(event: OktaLogEvent): string[] {
  const keys = new Set<string>();
  const add = (value: unknown) => {
    const s = nonEmptyString(value);
    if (s !== undefined && s.length <= MAX_USER_KEY_LENGTH) keys.add(s.toLowerCase());
  };
  if (event.actor && typeof event.actor === 'object') {
    add(event.actor.id);
    add(event.actor.alternateId);
  }
  for (const target of Array.isArray(event.target) ? event.target : []) {
    if (target && typeof target === 'object' && (target as { type?: unknown }).type === 'User') {
      add(target.id);
      add(target.alternateId);
    }
  }
  return [...keys];
}

export function userPk(user: string): string {
  return USER_PREFIX + user.toLowerCase();
}

export function eventTimeKey(event: OktaLogEvent): string {
  return `${canonicalTime(event.published)}#${event.uuid}`;
}

const S = (value: string): AttributeValue => ({ S: value });

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.toWellFormed() : undefined;
}

function putString(item: Item, name: string, value: unknown): void {
  const s = nonEmptyString(value);
  if (s !== undefined) item[name] = S(s);
}

function putStringList(item: Item, name: string, values: unknown[]): void {
  const list = values.map(nonEmptyString).filter((s): s is string => s !== undefined);
  if (list.length > 0) item[name] = { L: list.map(S) };
}

export function eventKey(uuid: string): Item {
  return { pk: S(EVENT_PREFIX + uuid), sk: S('EVENT') };
}

/** Approximate DynamoDB item size: attribute names plus UTF-8 value bytes. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name) + valueSize(value);
  }
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.N !== undefined) return value.N.length;
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  return 1;
}

/**
 * The item for one event: the exact JSON as sent, plus attributes to search and account by. The
 * JSON is stored gzipped when that costs fewer write units (1 KB each: Okta's sample
 * user.session.start is 3 as text, 2 gzipped) or is the only way to fit, as text otherwise;
 * eventJson gives the same text back either way. Undefined when even gzipped it cannot fit.
 */
export function eventItem({ event, rawJson }: ParsedEvent, origin: EventOrigin): Item | undefined {
  const userKeys = userKeysOf(event);
  const item: Item = {
    ...eventKey(event.uuid),
    itemType: S('event'),
    timeKey: S(eventTimeKey(event)),
    uuid: S(event.uuid),
    eventType: S(event.eventType),
    published: S(event.published),
    origin: S(origin.origin),
    receivedAt: S(origin.receivedAt),
  };
  putString(item, 'deliveryId', origin.deliveryId);
  const actor = event.actor;
  if (actor && typeof actor === 'object') {
    putString(item, 'actorId', actor.id);
    putString(item, 'actorAlternateId', actor.alternateId);
  }
  const targets = Array.isArray(event.target) ? event.target : [];
  putStringList(
    item,
    'targetIds',
    targets.map((t) => t?.id),
  );
  putStringList(
    item,
    'targetAlternateIds',
    targets.map((t) => t?.alternateId),
  );
  putString(item, 'source', origin.source);
  putString(item, 'eventTime', origin.eventTime);
  putString(item, 'hookdeckEventId', origin.hookdeckEventId);
  if (userKeys.length > 0) item.userKeys = { L: userKeys.map(S) };
  if (origin.expiresAt !== undefined) item.expiresAt = { N: String(origin.expiresAt) };

  // Token for token as sent; only whitespace between tokens goes (it is paid for in write units).
  const json = compactJson(rawJson);
  const withText: Item = { ...item, event: S(json) };
  const textBytes = itemSize(withText);
  if (textBytes <= WRITE_UNIT_BYTES) return withText; // one unit already: nothing to save
  const withGzip: Item = { ...item, eventGzip: { B: gzipSync(json) } };
  const gzipBytes = itemSize(withGzip);
  if (textBytes <= MAX_ITEM_BYTES && writeUnits(textBytes) <= writeUnits(gzipBytes)) {
    return withText;
  }
  return gzipBytes <= MAX_ITEM_BYTES ? withGzip : undefined;
}

/** One link item per user the event is about; rewriting one is harmless (same content). */
export function userLinkItems(event: OktaLogEvent, expiresAt: number | undefined): Item[] {
  const timeKey = eventTimeKey(event);
  return userKeysOf(event).map((user) => {
    const link: Item = { pk: S(userPk(user)), sk: S(timeKey), uuid: S(event.uuid) };
    if (expiresAt !== undefined) link.expiresAt = { N: String(expiresAt) };
    return link;
  });
}

/** The event's JSON text as it was received, token for token (whitespace between tokens removed). */
export function eventJson(item: Item): string {
  if (item.event?.S !== undefined) return item.event.S;
  if (item.eventGzip?.B !== undefined) return gunzipSync(item.eventGzip.B).toString('utf8');
  throw new Error(`Item ${item.pk?.S ?? '?'} holds no event`);
}

/**
 * Whether two texts of one uuid are the same event: token for token, or else the same JSON once
 * keys are in one order (the System Log may order fields differently from a hook delivery).
 */
export function sameEventText(a: string, b: string): boolean {
  if (compactJson(a) === compactJson(b)) return true;
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * An event that arrived again in another delivery: one small item beside the event, so the
 * deliveries that carried it can be listed (the first one is the event item's `deliveryId`).
 */
export function carriedByItem(uuid: string, origin: EventOrigin): Item {
  const item: Item = {
    pk: S(EVENT_PREFIX + uuid),
    sk: S(CARRIED_BY_PREFIX + (origin.deliveryId ?? origin.origin)),
    receivedAt: S(origin.receivedAt),
  };
  if (origin.expiresAt !== undefined) item.expiresAt = { N: String(origin.expiresAt) };
  return item;
}

/**
 * The event type registry's writes for one batch of events (a delivery, a System Log page): one
 * UpdateItem per distinct eventType, keeping the latest receipt (`lastSeenAt`) and its expiry,
 * so a type leaves the registry when its newest event does. The condition keeps a late, older
 * receipt from moving them back: ConditionalCheckFailed means a newer receipt is already
 * recorded, which is success. The items carry no itemType or eventType attribute, so neither
 * index sees them.
 */
export function eventTypeUpdates(events: readonly ParsedEvent[], origin: EventOrigin) {
  const types = [...new Set(events.map(({ event }) => event.eventType))];
  return types.map((eventType) => {
    const values: Record<string, AttributeValue> = { ':seen': S(origin.receivedAt) };
    let update = 'SET lastSeenAt = :seen';
    if (origin.expiresAt !== undefined) {
      values[':expires'] = { N: String(origin.expiresAt) };
      update += ', expiresAt = :expires';
    } else {
      update += ' REMOVE expiresAt';
    }
    return {
      Key: { pk: S(EVENT_TYPE_PK), sk: S(eventType) },
      UpdateExpression: update,
      ConditionExpression: 'attribute_not_exists(lastSeenAt) OR lastSeenAt < :seen',
      ExpressionAttributeValues: values,
    };
  });
}
