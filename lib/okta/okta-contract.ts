/**
 * Okta's side of the wire: the one-time verification challenge and the event hook delivery
 * envelope (DESIGN.md §2). Validation is deliberately narrow: only what storage needs is
 * required; every other field, known or not, is kept as sent.
 */
import { OktaApiError, RequestError } from '../errors';
import { arrayElementTexts, locateJsonError, nestingDepth } from './json-text';

export const OKTA_EVENT_HOOK_TYPE = 'com.okta.event_hook';
export const VERIFICATION_HEADER = 'x-okta-verification-challenge';

/** A System Log event as far as this service needs to know it; the rest is opaque. */
export interface OktaLogEvent {
  uuid: string;
  eventType: string;
  published: string;
  actor?: { id?: unknown; alternateId?: unknown } | null;
  target?: Array<{ id?: unknown; alternateId?: unknown } | null> | null;
  [field: string]: unknown;
}

export interface ParsedEvent {
  event: OktaLogEvent;
  /** The event's JSON exactly as it appeared in the request body. */
  rawJson: string;
}

export interface OktaDelivery {
  /** Envelope `eventId`: one id per delivery, kept when Okta retries it. */
  eventId: string | undefined;
  source: string | undefined;
  eventTime: string | undefined;
  events: ParsedEvent[];
}

/** Keys longer than this cannot be real Okta ids and would exceed DynamoDB's key limits. */
export const MAX_KEY_LENGTH = 256;
/**
 * Deepest nesting accepted. Okta's events nest about 6 deep; a hostile body nested millions deep
 * would take seconds to parse and could never be stored, so it is refused before parsing.
 */
export const MAX_NESTING_DEPTH = 256;
/** Enough for a person to fix a payload; a hostile one does not get a megabyte of problems. */
const MAX_PROBLEMS_LISTED = 100;

/** Answers Okta's GET challenge: `{"verification": "<the header's value>"}`. */
export function verificationBody(headers: Record<string, string>): { verification: string } {
  const challenge = headers[VERIFICATION_HEADER];
  if (challenge === undefined || challenge === '') {
    throw new RequestError(
      400,
      'missing_challenge',
      'The X-Okta-Verification-Challenge header is missing or empty: this GET is only for Okta event hook verification.',
    );
  }
  return { verification: challenge };
}

export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeyField(
  problems: string[],
  event: Record<string, unknown>,
  field: string,
  where: string,
): void {
  const value = event[field];
  if (typeof value !== 'string') {
    problems.push(`${where}.${field} must be a string, found ${describe(value)}`);
  } else if (value === '') {
    problems.push(`${where}.${field} must not be empty`);
  } else if (value.length > MAX_KEY_LENGTH) {
    problems.push(
      `${where}.${field} is ${value.length} characters long; at most ${MAX_KEY_LENGTH} are accepted`,
    );
  } else if (!value.isWellFormed()) {
    problems.push(`${where}.${field} contains an unpaired UTF-16 surrogate`);
  }
}

/**
 * Parses and checks a delivery body. Throws RequestError 400 with every problem found, so a
 * sender fixes them all at once.
 */
export function parseDelivery(rawBody: Buffer): OktaDelivery {
  let text: string;
  try {
    text = utf8.decode(rawBody);
  } catch {
    throw new RequestError(400, 'invalid_encoding', 'The body is not valid UTF-8 text.');
  }
  if (text.trim() === '') {
    throw new RequestError(
      400,
      'empty_body',
      'The body is empty; an Okta event hook delivery is a JSON object.',
    );
  }

  const depth = nestingDepth(text, MAX_NESTING_DEPTH);
  if (depth > MAX_NESTING_DEPTH) {
    throw new RequestError(
      400,
      'too_deeply_nested',
      `The body nests arrays and objects more than ${MAX_NESTING_DEPTH} deep; Okta's events nest fewer than 10.`,
    );
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const where = locateJsonError(text);
    throw new RequestError(
      400,
      'malformed_json',
      `The body is not valid JSON: ${where ? where.message : 'it could not be parsed'}.`,
    );
  }

  if (!isObject(body)) {
    throw new RequestError(
      400,
      'not_an_event_hook',
      `The body must be a JSON object (an Okta event hook delivery), found ${describe(body)}.`,
    );
  }

  const problems: string[] = [];
  if (body.eventType !== OKTA_EVENT_HOOK_TYPE) {
    problems.push(
      `eventType must be "${OKTA_EVENT_HOOK_TYPE}", found ${typeof body.eventType === 'string' ? JSON.stringify(body.eventType.slice(0, 100)) : describe(body.eventType)}`,
    );
  }
  const data = body.data;
  const events = isObject(data) ? data.events : undefined;
  if (!isObject(data)) {
    problems.push(`data must be an object holding an "events" array, found ${describe(data)}`);
  } else if (!Array.isArray(events)) {
    problems.push(`data.events must be an array, found ${describe(events)}`);
  }

  const eventList = Array.isArray(events) ? (events as unknown[]) : [];
  eventList.forEach((event, i) => {
    const where = `data.events[${i}]`;
    if (!isObject(event)) {
      problems.push(`${where} must be an object, found ${describe(event)}`);
      return;
    }
    checkKeyField(problems, event, 'uuid', where);
    checkKeyField(problems, event, 'eventType', where);
    checkKeyField(problems, event, 'published', where);
  });

  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_PROBLEMS_LISTED);
    if (problems.length > listed.length) {
      listed.push(`... and ${problems.length - listed.length} more problems`);
    }
    throw new RequestError(
      400,
      'not_an_event_hook',
      `The body is not an Okta event hook delivery: ${problems.length} problem${problems.length === 1 ? '' : 's'} found.`,
      listed,
    );
  }

  // Keep each event's own source text; fall back to re-serialising only if the scan disagrees.
  const texts = arrayElementTexts(text, ['data', 'events']);
  const parsed = eventList.map((event, i) => ({
    event: event as OktaLogEvent,
    rawJson: texts?.length === eventList.length ? texts[i]! : JSON.stringify(event),
  }));

  return {
    eventId: typeof body.eventId === 'string' && body.eventId !== '' ? body.eventId : undefined,
    source: typeof body.source === 'string' ? body.source : undefined,
    eventTime: typeof body.eventTime === 'string' ? body.eventTime : undefined,
    events: parsed,
  };
}

/**
 * A System Log page (`GET /api/v1/logs`): a JSON array of LogEvents, each kept as its own source
 * text, as hook events are. Checked like a delivery's events (uuid, eventType, published); a page
 * that fails is Okta's fault, reported as an OktaApiError.
 */
export function parseLogEvents(text: string): ParsedEvent[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const where = locateJsonError(text);
    throw new OktaApiError(
      `the System Log answered with invalid JSON${where ? ` (${where.message})` : ''}`,
      200,
      true,
    );
  }
  if (!Array.isArray(body)) {
    throw new OktaApiError(
      `the System Log answered ${describe(body)}, expected an array of events`,
      200,
      true,
    );
  }
  const problems: string[] = [];
  body.forEach((event: unknown, i) => {
    const where = `events[${i}]`;
    if (!isObject(event)) {
      problems.push(`${where} must be an object, found ${describe(event)}`);
      return;
    }
    checkKeyField(problems, event, 'uuid', where);
    checkKeyField(problems, event, 'eventType', where);
    checkKeyField(problems, event, 'published', where);
  });
  if (problems.length > 0) {
    throw new OktaApiError(
      `the System Log answered events that cannot be stored: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
      200,
      false,
    );
  }
  const texts = arrayElementTexts(text, []);
  return (body as OktaLogEvent[]).map((event, i) => ({
    event,
    rawJson: texts?.length === body.length ? texts[i]! : JSON.stringify(event),
  }));
}
