/**
 * What every listing of the table takes and gives: time ranges, page sizes and the page itself,
 * validated with a 400 that says what to send instead.
 */
import { RequestError } from '../errors';
import { quoted } from '../printable';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;
/**
 * Lambda caps a response at 6 MB of payload: a page stops growing once its items take this many
 * bytes as sent (see payloadBytes), and its cursor resumes after the last one. The rest is room
 * for the envelope; a single item over it is a page of its own (the read API gzips it).
 */
export const MAX_PAGE_BYTES = 5 * 1024 * 1024;

export interface TimeRange {
  /** Inclusive, canonical ISO time. */
  since?: string;
  /** Exclusive, canonical ISO time. */
  until?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Bytes a JSON text takes in Lambda's response payload, which carries the body as a JSON string:
 * each quote and backslash is escaped once more, a control character's \u escape gets one more
 * backslash, and the rest counts in UTF-8 bytes. String length undercounts all three.
 */
export function payloadBytes(json: string): number {
  return Buffer.byteLength(JSON.stringify(json)) - 2;
}

export function badParameter(message: string): RequestError {
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
