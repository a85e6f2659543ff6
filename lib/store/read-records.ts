/**
 * What the store's reads answer with, as the read API and the CLI show them. Plain shapes that
 * import nothing: the event browser's page (lib/ui/client/api.ts) imports their types, so
 * they must not pull Node's or the AWS SDK's types into its build.
 */

export type DeliveryStatus = 'received' | 'stored' | 'rejected';

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

/** What the table knows about a listed event beyond its JSON: how it reached us. */
export interface EventMeta {
  uuid: string;
  receivedAt?: string;
  deliveryId?: string;
  /** How the event was stored (`hook`, `systemLog`) when the item records it. */
  origin?: string;
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

export interface EventTypeRecord {
  eventType: string;
  /** When a delivery carrying this type was last received. */
  lastSeenAt: string;
}
