/**
 * The read API and the session routes, from the page. Same origin, so the HttpOnly session
 * cookie goes along by itself; no token is ever held by the script. Paths are relative to the
 * page (…/ui), so a stage mapped under a base path works too.
 */
import { arrayElementTexts } from '../../okta/json-text';
import type { ReactionOutcome } from '../../reactions/outcome-record';
import type {
  DeliveryRecord,
  EventCounts,
  EventDeliveries,
  EventDelivery,
  EventMeta,
  EventTypeRecord,
} from '../../store/read-records';
import type { SessionState } from '../session-state';

// The answers' shapes are the server's own (type-only: nothing of the server is bundled).
export type {
  DeliveryRecord,
  EventCounts,
  EventDeliveries,
  EventDelivery,
  EventTypeRecord,
  ReactionOutcome,
  SessionState,
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** 401: the session is missing, ended, or its token was withdrawn. */
export class SignedOutError extends ApiError {}

export interface EventPage {
  events: unknown[];
  meta: EventMeta[];
  nextCursor: string | null;
}

export interface DeliveryPage {
  deliveries: DeliveryRecord[];
  nextCursor: string | null;
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(path, document.baseURI);
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...init.headers },
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, `The service did not answer (${(error as Error).message}).`);
  }
  if (response.ok) return response;
  const body = (await response.json().catch(() => ({}))) as { message?: string };
  const message = body.message ?? `The service answered ${response.status}.`;
  throw response.status === 401
    ? new SignedOutError(401, message)
    : new ApiError(response.status, message);
}

/**
 * The answer's JSON when it has `key`. serverless offline answers a handler that failed or timed
 * out with 200 and `{"errorMessage": ...}`: that is a failure, not data.
 */
function expectKey<T>(text: string, key: string): T {
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (body === undefined || body === null || typeof body !== 'object' || !(key in body)) {
    const reason =
      typeof body?.errorMessage === 'string' ? body.errorMessage : 'an unexpected answer';
    throw new ApiError(502, `The service failed (${reason}): try again.`);
  }
  return body as T;
}

function withParams(path: string, params: URLSearchParams): string {
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

export async function getSession(): Promise<SessionState> {
  return expectKey<SessionState>(await (await request('ui/session')).text(), 'signedIn');
}

export async function signIn(token: string): Promise<SessionState> {
  const response = await request('ui/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return expectKey<SessionState>(await response.text(), 'signedIn');
}

/** Signs out here; after an Okta sign-in, answers the issuer's logout URL to go to next. */
export async function signOut(): Promise<string | undefined> {
  const response = await request('ui/session', { method: 'DELETE' });
  if (response.status !== 200) return undefined;
  const { logoutUrl } = (await response.json()) as { logoutUrl?: unknown };
  return typeof logoutUrl === 'string' ? logoutUrl : undefined;
}

export async function listEvents(params: URLSearchParams, signal?: AbortSignal) {
  const text = await (await request(withParams('events', params), { signal })).text();
  const page = expectKey<EventPage>(text, 'events');
  return { ...page, text };
}

/** Each listed event's JSON text exactly as stored (JSON.parse would round big numbers). */
export function eventTexts(pageText: string): string[] {
  return arrayElementTexts(pageText, ['events']) ?? [];
}

/** One event's JSON text exactly as stored; undefined when there is no such event. */
export async function getEventText(uuid: string): Promise<string | undefined> {
  try {
    const text = await (await request(`events/${encodeURIComponent(uuid)}`)).text();
    expectKey(text, 'uuid');
    return text;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export async function listEventTypes(): Promise<EventTypeRecord[]> {
  const text = await (await request('event-types')).text();
  return expectKey<{ eventTypes: EventTypeRecord[] }>(text, 'eventTypes').eventTypes;
}

export async function countEvents(
  params: URLSearchParams,
  signal?: AbortSignal,
): Promise<EventCounts> {
  const text = await (await request(withParams('event-counts', params), { signal })).text();
  return expectKey<EventCounts>(text, 'buckets');
}

export async function listDeliveries(params: URLSearchParams): Promise<DeliveryPage> {
  const text = await (await request(withParams('deliveries', params))).text();
  return expectKey<DeliveryPage>(text, 'deliveries');
}

/** One delivery's record and its request body as received; undefined when there is none. */
export async function getDelivery(
  id: string,
): Promise<(DeliveryRecord & { body: string }) | undefined> {
  try {
    const text = await (await request(`deliveries/${encodeURIComponent(id)}`)).text();
    return expectKey<DeliveryRecord & { body: string }>(text, 'body');
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** The events one delivery carried, as stored, in its order; `notStored` the rest. */
export async function listDeliveryEvents(id: string, params: URLSearchParams) {
  const path = withParams(`deliveries/${encodeURIComponent(id)}/events`, params);
  const text = await (await request(path)).text();
  const page = expectKey<EventPage & { notStored: string[] }>(text, 'events');
  return { ...page, text };
}

/** The deliveries that carried an event, the first one first. */
export async function listEventDeliveries(uuid: string): Promise<EventDeliveries> {
  const text = await (await request(`events/${encodeURIComponent(uuid)}/deliveries`)).text();
  return expectKey<EventDeliveries>(text, 'deliveries');
}

/** What the reactions did with an event, one outcome per reaction that ran on it. */
export async function listEventReactions(uuid: string): Promise<ReactionOutcome[]> {
  const text = await (await request(`events/${encodeURIComponent(uuid)}/reactions`)).text();
  return expectKey<{ reactions: ReactionOutcome[] }>(text, 'reactions').reactions;
}
