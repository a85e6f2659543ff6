/**
 * How events and deliveries are laid out in the one DynamoDB table. Pure functions: no I/O.
 *
 *   pk                   sk                  indexed by                       what
 *   EVENT#<uuid>         EVENT               byTime (itemType='event',        one Okta LogEvent
 *                                            timeKey), byType (eventType,
 *                                            timeKey)
 *   USER#<id or login>   <timeKey>           (the table's own key)            link: this user is the
 *                                                                             event's actor or a target
 *   DELIVERY#<eventId>   DELIVERY            byTime (itemType='delivery')     one accepted delivery
 *
 * timeKey = <published as canonical ISO time>#<uuid> for events, <receivedAt>#<eventId> for
 * deliveries, so every listing is one Query ordered by time. Both indexes are KEYS_ONLY:
 * listings fetch the items themselves with BatchGetItem, which keeps each index write at 1 WCU.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { compactJson } from '../okta/json-text';
import type { OktaDelivery, OktaLogEvent, ParsedEvent } from '../okta/okta-contract';

export type Item = Record<string, AttributeValue>;

export const EVENT_PREFIX = 'EVENT#';
export const DELIVERY_PREFIX = 'DELIVERY#';
export const USER_PREFIX = 'USER#';
export const TIME_INDEX = 'byTime';
export const TYPE_INDEX = 'byType';

/** DynamoDB's item limit is 400 KB, names and values included. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** Above this the event JSON is stored gzipped, leaving room for the searchable attributes. */
const GZIP_ABOVE_BYTES = 300 * 1024;

export interface DeliveryMeta {
  /** Envelope eventId, or a hash of the body when the envelope has none. */
  deliveryId: string;
  receivedAt: string;
  hookdeckEventId: string | undefined;
  /** TTL, epoch seconds; undefined keeps the items forever. */
  expiresAt: number | undefined;
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

export function deliveryKey(deliveryId: string): Item {
  return { pk: S(DELIVERY_PREFIX + deliveryId), sk: S('DELIVERY') };
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

/** The item for one event: the exact JSON as sent, plus attributes to search and account by. */
export function eventItem(
  { event, rawJson }: ParsedEvent,
  delivery: OktaDelivery,
  meta: DeliveryMeta,
): Item {
  const userKeys = userKeysOf(event);
  const item: Item = {
    ...eventKey(event.uuid),
    itemType: S('event'),
    timeKey: S(eventTimeKey(event)),
    uuid: S(event.uuid),
    eventType: S(event.eventType),
    published: S(event.published),
    deliveryId: S(meta.deliveryId),
    receivedAt: S(meta.receivedAt),
  };
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
  putString(item, 'source', delivery.source);
  putString(item, 'eventTime', delivery.eventTime);
  putString(item, 'hookdeckEventId', meta.hookdeckEventId);
  if (userKeys.length > 0) item.userKeys = { L: userKeys.map(S) };
  if (meta.expiresAt !== undefined) item.expiresAt = { N: String(meta.expiresAt) };

  // Token for token as sent; only whitespace between tokens goes (it is paid for in write units).
  const json = compactJson(rawJson);
  if (Buffer.byteLength(json) > GZIP_ABOVE_BYTES) {
    item.eventGzip = { B: gzipSync(json) };
  } else {
    item.event = S(json);
  }
  return item;
}

/** One link item per user the event is about; rewriting one is harmless (same content). */
export function userLinkItems(event: OktaLogEvent, meta: DeliveryMeta): Item[] {
  const timeKey = eventTimeKey(event);
  return userKeysOf(event).map((user) => {
    const link: Item = { pk: S(userPk(user)), sk: S(timeKey), uuid: S(event.uuid) };
    if (meta.expiresAt !== undefined) link.expiresAt = { N: String(meta.expiresAt) };
    return link;
  });
}

/** The event's JSON text as it was received, token for token (whitespace between tokens removed). */
export function eventJson(item: Item): string {
  if (item.event?.S !== undefined) return item.event.S;
  if (item.eventGzip?.B !== undefined) return gunzipSync(item.eventGzip.B).toString('utf8');
  throw new Error(`Item ${item.pk?.S ?? '?'} holds no event`);
}

/** Largest uuid list kept on a delivery record; beyond it the count of omitted uuids is kept. */
const MAX_DELIVERY_UUID_BYTES = 300 * 1024;

export interface DeliveryOutcome {
  storedCount: number;
  duplicateCount: number;
}

/**
 * An UpdateItem that records an accepted delivery. The first acceptance sets what was received
 * and stored; a redelivery of the same delivery only bumps acceptedCount and lastReceivedAt.
 */
export function deliveryUpdate(
  delivery: OktaDelivery,
  meta: DeliveryMeta,
  outcome: DeliveryOutcome,
) {
  const uuids: string[] = [];
  let bytes = 0;
  for (const { event } of delivery.events) {
    bytes += Buffer.byteLength(event.uuid) + 4;
    if (bytes > MAX_DELIVERY_UUID_BYTES) break;
    uuids.push(event.uuid);
  }
  const eventTypes = [...new Set(delivery.events.map(({ event }) => event.eventType))];
  const first: Record<string, AttributeValue> = {
    itemType: S('delivery'),
    timeKey: S(`${meta.receivedAt}#${meta.deliveryId}`),
    deliveryId: S(meta.deliveryId),
    firstReceivedAt: S(meta.receivedAt),
    eventCount: { N: String(delivery.events.length) },
    storedCount: { N: String(outcome.storedCount) },
    duplicateCount: { N: String(outcome.duplicateCount) },
    eventUuids: { L: uuids.map(S) },
    omittedUuidCount: { N: String(delivery.events.length - uuids.length) },
    eventTypes: { L: eventTypes.slice(0, 300).map(S) },
  };
  putString(first, 'source', delivery.source);
  putString(first, 'eventTime', delivery.eventTime);
  putString(first, 'hookdeckEventId', meta.hookdeckEventId);
  if (meta.expiresAt !== undefined) first.expiresAt = { N: String(meta.expiresAt) };

  const names: Record<string, string> = { '#last': 'lastReceivedAt', '#accepted': 'acceptedCount' };
  const values: Record<string, AttributeValue> = {
    ':last': S(meta.receivedAt),
    ':one': { N: '1' },
  };
  const sets = ['#last = :last'];
  Object.entries(first).forEach(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = if_not_exists(#f${i}, :f${i})`);
  });
  return {
    Key: deliveryKey(meta.deliveryId),
    UpdateExpression: `SET ${sets.join(', ')} ADD #accepted :one`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
