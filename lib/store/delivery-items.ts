/**
 * How a delivery (one POST from Okta, as received) is laid out. Pure functions: no I/O.
 *
 *   pk                 sk           indexed by                     what
 *   DELIVERY#<id>      DELIVERY     byTime (itemType='delivery',   the request as received: kept
 *                                   timeKey)                       headers, gzipped body (when it
 *                                                                  fits), status, counts, attempts
 *   DELIVERY#<id>      PART#<sha>#<n>  (none)                      gzipped body slices of a body too
 *                                                                  large for the head, written first
 *
 *   DELIVERY#<id>      CONTINUE#<n> (none)                         where the `store` function goes on
 *                                                                  with a large delivery (its INSERT
 *                                                                  is the follow-up's trigger)
 *
 * The head's INSERT on the table's stream is what makes the `store` function write the events;
 * parts never match its filter. timeKey = <first receipt>#<id>. Part keys carry the body's
 * SHA-256: a different body sent under the same eventId writes its parts beside, never over, the
 * parts of the body that holds the id (heads from before that have `PART#<n>` parts).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DELIVERY_PREFIX, type Item } from './event-items';
import type { DeliveryStatus } from './read-records';

export type { DeliveryStatus };

export const DELIVERY_SK = 'DELIVERY';
export const PART_PREFIX = 'PART#';
export const CONTINUE_PREFIX = 'CONTINUE#';
/** uuids listed on a delivery whose text conflicted with the stored one; the count has them all. */
export const MAX_CONFLICT_UUIDS = 20;
/** The body stays in the head below this (gzipped), leaving room for the other attributes. */
const HEAD_BODY_BYTES = 300 * 1024;
/** Gzipped bytes per part item: under the 400 KB item limit with room for the keys. */
const PART_BYTES = 380 * 1024;
/** Envelope ids longer than this are hashed: sort keys are at most 1 KB (`<time>#<id>`). */
const MAX_ID_LENGTH = 200;
/** eventTypes listed on the head; Okta allows 300 per hook. */
const MAX_TYPES = 300;

/**
 * Headers worth keeping with a delivery: what Okta and Hookdeck say about it. Never an
 * authorization header or a signature: the head item is readable through the read API.
 */
const KEPT_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'user-agent',
  'accept',
  'x-okta-request-id',
  'x-hookdeck-eventid',
  'x-hookdeck-requestid',
  'x-hookdeck-source-name',
  'x-hookdeck-attempt-count',
  'x-hookdeck-verified',
  'x-hookdeck-original-ip',
  'idempotency-key',
  'x-forwarded-for',
  'x-amzn-trace-id',
]);
const MAX_HEADER_VALUE = 1024;

/** What the receiver knows about a delivery when it writes it. */
export interface ReceivedDelivery {
  deliveryId: string;
  /** The envelope's eventId as sent (up to 1,000 characters), when there is one. */
  eventId: string | undefined;
  receivedAt: string;
  body: Buffer;
  headers: Record<string, string>;
  eventCount: number;
  eventTypes: string[];
  source: string | undefined;
  eventTime: string | undefined;
  caller: string;
  sourceIp: string | undefined;
  requestId: string;
  expiresAt: number | undefined;
  /** Set when another body holds this delivery's eventId: that delivery's id. */
  sameEventIdAs?: string;
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

export function deliveryKey(deliveryId: string): Item {
  return { pk: S(DELIVERY_PREFIX + deliveryId), sk: S(DELIVERY_SK) };
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The key of a delivery: Okta's envelope eventId (one per delivery, the same on a retry); a
 * hash of it when it is too long for a key; a hash of the body when there is none.
 */
export function deliveryIdFor(eventId: string | undefined, body: Buffer): string {
  if (eventId === undefined) return `sha256:${sha256(body)}`;
  return eventId.length <= MAX_ID_LENGTH ? eventId : `sha256:${sha256(eventId)}`;
}

/** The sort key prefix of a body's parts: the body's own hash, so two bodies never mix. */
export function partPrefix(bodySha256: string): string {
  return `${PART_PREFIX}${bodySha256}#`;
}

/** Another key for a delivery whose eventId was already used by a different body. */
export function alternateDeliveryId(deliveryId: string, bodySha256: string): string {
  return `${deliveryId}~${bodySha256.slice(0, 16)}`;
}

/** The headers a delivery record keeps (see KEPT_HEADERS), the auth header never among them. */
export function keptHeaders(
  headers: Record<string, string>,
  authHeader: string,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (KEPT_HEADERS.has(name) && name !== authHeader)
      kept[name] = value.slice(0, MAX_HEADER_VALUE);
  }
  return kept;
}

/** The head item and, for a body too large for it, the part items to write before it. */
export function deliveryItems(delivery: ReceivedDelivery): { head: Item; parts: Item[] } {
  const id = delivery.deliveryId;
  const gzipped = gzipSync(delivery.body);
  const head: Item = {
    ...deliveryKey(id),
    itemType: S('delivery'),
    timeKey: S(`${delivery.receivedAt}#${id}`),
    deliveryId: S(id),
    status: S('received'),
    firstReceivedAt: S(delivery.receivedAt),
    lastReceivedAt: S(delivery.receivedAt),
    attempts: N(1),
    eventCount: N(delivery.eventCount),
    eventTypes: { L: delivery.eventTypes.slice(0, MAX_TYPES).map(S) },
    bodyBytes: N(delivery.body.length),
    bodySha256: S(sha256(delivery.body)),
    caller: S(delivery.caller),
    requestId: S(delivery.requestId || '-'),
    headers: { M: Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k, S(v)])) },
  };
  if (delivery.eventId !== undefined) head.eventId = S(delivery.eventId.slice(0, 1000));
  if (delivery.source) head.source = S(delivery.source.slice(0, 2048));
  if (delivery.eventTime) head.eventTime = S(delivery.eventTime.slice(0, 64));
  if (delivery.sourceIp) head.sourceIp = S(delivery.sourceIp);
  const hookdeckEventId = delivery.headers['x-hookdeck-eventid'];
  if (hookdeckEventId) head.hookdeckEventId = S(hookdeckEventId);
  if (delivery.expiresAt !== undefined) head.expiresAt = N(delivery.expiresAt);
  if (delivery.sameEventIdAs !== undefined) head.sameEventIdAs = S(delivery.sameEventIdAs);

  const parts: Item[] = [];
  if (gzipped.length <= HEAD_BODY_BYTES) {
    head.body = { B: gzipped };
  } else {
    const prefix = partPrefix(head.bodySha256!.S!);
    for (let offset = 0, n = 0; offset < gzipped.length; offset += PART_BYTES, n++) {
      const part: Item = {
        pk: S(DELIVERY_PREFIX + id),
        sk: S(`${prefix}${String(n).padStart(5, '0')}`),
        body: { B: gzipped.subarray(offset, offset + PART_BYTES) },
      };
      if (delivery.expiresAt !== undefined) part.expiresAt = N(delivery.expiresAt);
      parts.push(part);
    }
    head.bodyParts = N(parts.length);
    head.partPrefix = S(prefix);
  }
  return { head, parts };
}

/** Parts from before part keys carried the body hash: `PART#00000`, `PART#00001`, ... */
const LEGACY_PART = /^PART#\d{5}$/;

/** The sort key prefix this head's parts were written under, and whether a key is one of them. */
export function partsOf(head: Item): { prefix: string; matches: (sk: string) => boolean } {
  const prefix = head.partPrefix?.S;
  if (prefix !== undefined) return { prefix, matches: (sk) => sk.startsWith(prefix) };
  return { prefix: PART_PREFIX, matches: (sk) => LEGACY_PART.test(sk) };
}

/**
 * The request body as received, from the head (and its parts, in sort key order), checked
 * against the head's bodySha256: a body that is not the one received is an error, never stored.
 */
export function deliveryBody(head: Item, parts: Item[] = []): Buffer {
  const id = head.deliveryId?.S ?? head.pk?.S?.slice(DELIVERY_PREFIX.length) ?? '?';
  const gzipped = head.body?.B
    ? Buffer.from(head.body.B)
    : Buffer.concat(parts.map((p) => Buffer.from(p.body?.B ?? new Uint8Array())));
  let body: Buffer;
  try {
    body = gunzipSync(gzipped);
  } catch (error) {
    throw new Error(`delivery ${id}: its stored body does not unzip (${(error as Error).message})`);
  }
  const expected = head.bodySha256?.S;
  if (expected !== undefined && sha256(body) !== expected) {
    throw new Error(`delivery ${id}: its stored body does not match the bodySha256 received`);
  }
  return body;
}

/** A repeat of a delivery already written (same id, same body): count the attempt. */
export function attemptUpdate(deliveryId: string, receivedAt: string, bodySha256: string) {
  return {
    Key: deliveryKey(deliveryId),
    UpdateExpression: 'SET lastReceivedAt = :now ADD attempts :one',
    ConditionExpression: 'bodySha256 = :sha',
    ExpressionAttributeValues: { ':now': S(receivedAt), ':one': N(1), ':sha': S(bodySha256) },
    ReturnValues: 'UPDATED_NEW' as const,
  };
}

export interface StoreOutcome {
  status: Exclude<DeliveryStatus, 'received'>;
  storedCount: number;
  duplicateCount: number;
  storedAt: string;
  storeMs: number;
  /** Why a delivery was rejected after it was received (it can never be stored). */
  reason?: string;
  /** Events whose uuid was stored already with other text (the first text is kept). */
  conflictCount?: number;
  /** The first MAX_CONFLICT_UUIDS of them. */
  conflictUuids?: string[];
}

/** How far the `store` function got with a delivery it continues in a follow-up invocation. */
export interface StoreProgress {
  /** Distinct events (in order of first appearance) handled so far. */
  from: number;
  storedCount: number;
  conflictCount: number;
  conflictUuids: string[];
  /** Time spent storing so far, over every invocation. */
  storeMs: number;
}

export function isContinuation(item: Item): boolean {
  return (
    (item.sk?.S ?? '').startsWith(CONTINUE_PREFIX) && (item.pk?.S ?? '').startsWith(DELIVERY_PREFIX)
  );
}

/** The follow-up's item: its key says where to go on, so writing it twice is one INSERT. */
export function continuationItem(
  deliveryId: string,
  progress: StoreProgress,
  expiresAt: number | undefined,
): Item {
  const item: Item = {
    pk: S(DELIVERY_PREFIX + deliveryId),
    sk: S(`${CONTINUE_PREFIX}${String(progress.from).padStart(9, '0')}`),
    from: N(progress.from),
    storedCount: N(progress.storedCount),
    conflictCount: N(progress.conflictCount),
    conflictUuids: { L: progress.conflictUuids.slice(0, MAX_CONFLICT_UUIDS).map(S) },
    storeMs: N(progress.storeMs),
  };
  if (expiresAt !== undefined) item.expiresAt = N(expiresAt);
  return item;
}

export function progressOf(item: Item): StoreProgress {
  const n = (name: string) => Number(item[name]?.N ?? 0);
  return {
    from: n('from'),
    storedCount: n('storedCount'),
    conflictCount: n('conflictCount'),
    conflictUuids: (item.conflictUuids?.L ?? []).map((v) => v.S ?? ''),
    storeMs: n('storeMs'),
  };
}

/** Marks a delivery stored (or rejected) once its events are; repeating it is harmless. */
export function outcomeUpdate(deliveryId: string, outcome: StoreOutcome) {
  const values: Record<string, AttributeValue> = {
    ':status': S(outcome.status),
    ':stored': N(outcome.storedCount),
    ':duplicates': N(outcome.duplicateCount),
    ':at': S(outcome.storedAt),
    ':ms': N(outcome.storeMs),
  };
  let set =
    'SET #status = :status, storedCount = :stored, duplicateCount = :duplicates, storedAt = :at, storeMs = :ms';
  if (outcome.reason !== undefined) {
    values[':reason'] = S(outcome.reason.slice(0, 1000));
    set += ', rejectReason = :reason';
  }
  if (outcome.conflictCount) {
    values[':conflicts'] = N(outcome.conflictCount);
    values[':conflictUuids'] = {
      L: (outcome.conflictUuids ?? []).slice(0, MAX_CONFLICT_UUIDS).map(S),
    };
    set += ', conflictCount = :conflicts, conflictUuids = :conflictUuids';
  }
  return {
    Key: deliveryKey(deliveryId),
    UpdateExpression: set,
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: values,
  };
}
