/**
 * One reconcile pass: read the org's System Log from where the last pass stopped, store every
 * event the hook should have delivered through the same idempotent write as hook deliveries
 * (conditional put on `uuid`, first receipt kept), and save the `next` link after each page.
 *
 * Okta's export pattern (DESIGN.md §8): one polling request (`since`, no `until`), then `next`
 * links until a page comes back empty; never since/until windows. What an event counts as:
 *
 * - recovered: written by this pass, so the hook never delivered it (or not yet);
 * - already stored: the hook (or an earlier pass) stored it first; nothing is overwritten;
 * - not stored: read only to be reported (`event_hook.delivery` when types are filtered).
 */
import { setMaxListeners } from 'node:events';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StorageUnavailableError } from '../errors';
import type { ReconcileLog } from '../logger';
import type { OktaLogEvent, ParsedEvent } from '../okta/okta-contract';
import {
  DeadlineReached,
  HOOK_DELIVERY_EVENT_TYPE,
  type SystemLogClient,
  eventTypeFilter,
} from '../okta/system-log';
import { expiryFor } from '../store/event-items';
import type { EventStore } from '../store/event-store';
import { CursorConflictError, CursorStore, type ReconcileCursor } from './cursor-store';

/** A page is begun only with this much time left: Okta may take 30 s, then the writes. */
export const PAGE_RESERVE_MS = 45_000;
/** When the query changes (other event types), the new one starts this far before where the old one was complete. */
const REQUERY_OVERLAP_MS = 15 * 60_000;
/** Pages in a row holding only events this pass read already: Okta is going round in circles. */
export const MAX_PAGES_WITHOUT_NEW_EVENTS = 5;
/** How many recent pages' uuids a page is compared with (bounded: a pass may read 400,000). */
const RECENT_PAGES_REMEMBERED = 20;
/** How a user moves a cursor that cannot be followed: a fresh polling query from a time. */
export const CURSOR_RESET_HINT =
  'to start again from a time, run `npm run reconcile -- --since <ISO 8601 time>`';

/** Okta's paging cannot be followed (a foreign or circular link): the pass stops, cursor kept. */
export class PagingError extends Error {
  override name = 'PagingError';
}

export type PassStatus =
  /** An empty page: everything Okta has persisted so far is stored. */
  | 'caught-up'
  /** A bounded request (--until) ran to its last page. */
  | 'done'
  /** Stopped before the deadline or when asked to (Ctrl-C), cursor saved; the next pass goes on from there. */
  | 'deadline'
  | 'failed';

export interface PassResult {
  status: PassStatus;
  org: string;
  /** Where the pass started: the saved cursor, the lookback, an explicit --since, or a new query. */
  from: 'cursor' | 'lookback' | 'since' | 'new-query';
  /** The event types stored ('*' for all) and whether Okta filtered them. */
  eventTypes: string[] | '*';
  pages: number;
  read: number;
  recovered: number;
  alreadyStored: number;
  notStored: number;
  /** `event_hook.delivery` events of failed deliveries (of this hook, when its id is known). */
  hookDeliveryFailures: number;
  /** API requests (logs, event hooks) and token requests made. */
  requests: number;
  tokenRequests: number;
  rateLimited: number;
  rateLimitWaitMs: number;
  /** Seconds between now and the time the table is known complete up to; unknown before a start. */
  lagSeconds: number | undefined;
  /** Newest `published` read. */
  newestPublished: string | undefined;
  ms: number;
  /** Why a failed pass failed, or why a pass stopped at the deadline: one line, no secret. */
  reason?: string;
  error?: unknown;
}

export interface PassOptions {
  /** Types to store: undefined for every type. Ignored when `eventHookId` is set. */
  eventTypes?: readonly string[];
  /** Read the types from this event hook's definition. */
  eventHookId?: string;
  lookbackHours: number;
  retentionDays: number;
  /** Explicit start (polling from here; the cursor is replaced). */
  since?: Date;
  /** With `since`: a bounded request, which neither reads nor saves the cursor. */
  until?: Date;
  /** Epoch ms by which the pass must have stopped (the function's timeout, less a margin). */
  deadline?: number;
  pageReserveMs?: number;
  /** Events per page (Okta's largest, 1000, unless a test wants many pages of few events). */
  pageSize?: number;
  /** Aborting it stops the pass at once (a wait, a request, a write), the cursor as last saved. */
  signal?: AbortSignal;
  onPage?: (progress: PassResult) => void;
}

export interface PassDeps {
  client: SystemLogClient;
  store: Pick<EventStore, 'storeEvents'>;
  dynamodb: DynamoDBClient;
  tableName: string;
  now?: () => number;
}

function isHookDeliveryFailure(event: OktaLogEvent, hookId: string | undefined): boolean {
  if (event.eventType !== HOOK_DELIVERY_EVENT_TYPE) return false;
  const outcome = event.outcome as { result?: unknown } | null | undefined;
  if (typeof outcome?.result === 'string' && outcome.result.toUpperCase() === 'SUCCESS') {
    return false;
  }
  if (hookId === undefined) return true;
  const targets = Array.isArray(event.target) ? event.target : [];
  return targets.length === 0 || targets.some((t) => t?.id === hookId);
}

export async function reconcilePass(deps: PassDeps, options: PassOptions): Promise<PassResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const { client } = deps;
  const cursors = new CursorStore(deps.dynamodb, deps.tableName);
  const requestsBefore = client.requests;
  const tokensBefore = client.auth.tokenRequests;
  const limitedBefore = client.rateLimited;
  const waitedBefore = client.rateLimitWaitMs;
  const result = emptyResult(new URL(client.orgUrl).host);
  const bounded = options.until !== undefined;
  let completeUntil = started;
  const finish = (): PassResult => {
    result.requests = client.requests - requestsBefore;
    result.tokenRequests = client.auth.tokenRequests - tokensBefore;
    result.rateLimited = client.rateLimited - limitedBefore;
    result.rateLimitWaitMs = client.rateLimitWaitMs - waitedBefore;
    result.lagSeconds = Math.max(0, Math.round((now() - completeUntil) / 1000));
    result.ms = now() - started;
    return result;
  };
  const request = { deadline: options.deadline, signal: options.signal };

  try {
    const types = options.eventHookId
      ? await client.eventHookTypes(options.eventHookId, request)
      : options.eventTypes && options.eventTypes.length > 0
        ? [...options.eventTypes]
        : undefined;
    result.eventTypes = types ? [...types].sort() : '*';
    const storedTypes = types ? new Set(types) : undefined;
    const filter = types ? eventTypeFilter([...types, HOOK_DELIVERY_EVENT_TYPE]) : undefined;
    const query = filter ?? '';

    let cursor: ReconcileCursor | undefined;
    let url: string;
    if (bounded) {
      result.from = 'since';
      url = client.logsUrl({
        since: options.since ?? new Date(0),
        until: options.until,
        filter,
        limit: options.pageSize,
      });
    } else {
      cursor = await cursors.load(client.orgUrl);
      let since: number | undefined;
      if (options.since) {
        result.from = 'since';
        since = options.since.getTime();
      } else if (!cursor) {
        result.from = 'lookback';
        since = started - options.lookbackHours * 3_600_000;
      } else if (cursor.query !== query) {
        // Other types now: a new polling query, from a little before where the old one stood.
        result.from = 'new-query';
        since = Math.max(
          Date.parse(cursor.completeUntil) - REQUERY_OVERLAP_MS,
          started - options.lookbackHours * 3_600_000,
        );
      }
      if (since === undefined) {
        // A cursor saved before links were checked may point elsewhere: say how to move it.
        assertFollowable(client, cursor!.nextUrl, 'the saved cursor');
        url = cursor!.nextUrl;
      } else {
        url = client.logsUrl({ since: new Date(since), filter, limit: options.pageSize });
      }
      const saved = Date.parse(cursor?.completeUntil ?? '');
      completeUntil = since ?? (Number.isFinite(saved) ? Math.min(saved, started) : started);
    }
    let version = cursor?.version ?? 0;
    const reserve = options.pageReserveMs ?? PAGE_RESERVE_MS;
    const requested = new Set<string>();
    const recentPages: Array<Set<string>> = [];
    let pagesWithoutNewEvents = 0;

    for (;;) {
      if (options.deadline !== undefined && now() + reserve > options.deadline) {
        result.status = 'deadline';
        result.reason = 'the function is about to time out';
        break;
      }
      if (requested.has(url)) {
        throw new PagingError(
          `Okta's next link leads back to a page this pass already read (${describeLink(url)}): stopping the pass; ${CURSOR_RESET_HINT} if it persists`,
        );
      }
      requested.add(url);
      const requestedAt = now();
      const page = await client.logPage(url, request);
      result.pages++;
      result.read += page.events.length;

      const toStore: ParsedEvent[] = [];
      let newest: number | undefined;
      const uuids = new Set<string>();
      let newToPass = false;
      for (const parsed of page.events) {
        const { event } = parsed;
        // Only a real time moves the cursor: "zzzz-not-a-time" would sort after every date.
        const published = Date.parse(event.published);
        if (Number.isFinite(published) && (newest === undefined || published > newest)) {
          newest = published;
        }
        uuids.add(event.uuid);
        if (!recentPages.some((seen) => seen.has(event.uuid))) newToPass = true;
        if (isHookDeliveryFailure(event, options.eventHookId)) result.hookDeliveryFailures++;
        if (!storedTypes || storedTypes.has(event.eventType)) toStore.push(parsed);
        else result.notStored++;
      }
      if (
        newest !== undefined &&
        (!result.newestPublished || newest > Date.parse(result.newestPublished))
      ) {
        result.newestPublished = new Date(newest).toISOString();
      }
      recentPages.push(uuids);
      if (recentPages.length > RECENT_PAGES_REMEMBERED) recentPages.shift();
      pagesWithoutNewEvents = page.events.length > 0 && !newToPass ? pagesWithoutNewEvents + 1 : 0;

      if (toStore.length > 0) {
        const signals = [
          ...(options.deadline === undefined
            ? []
            : [AbortSignal.timeout(Math.max(options.deadline - now(), 1))]),
          ...(options.signal ? [options.signal] : []),
        ];
        const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
        if (signal) setMaxListeners(0, signal); // one listener per concurrent write
        // The event store skips what is stored already (one read for the page), writes the
        // rest with the conditional put, and keeps the first receipt.
        const receivedAt = new Date(now());
        const stored = await deps.store
          .storeEvents(
            toStore,
            {
              origin: 'systemLog',
              receivedAt: receivedAt.toISOString(),
              expiresAt: expiryFor(receivedAt, options.retentionDays),
              source: `${client.orgUrl}/api/v1/logs`,
            },
            signal,
          )
          .catch((error: unknown) => {
            if (options.signal?.aborted) throw options.signal.reason;
            if (signal?.aborted) throw new DeadlineReached('storing a page ran into the deadline');
            throw error;
          });
        result.recovered += stored.writtenCount;
        result.alreadyStored += toStore.length - stored.writtenCount;
      }

      const exhausted = bounded ? page.next === undefined : page.events.length === 0;
      if (exhausted) {
        completeUntil = requestedAt;
      } else if (result.newestPublished) {
        // Never past the request: an event dated in the future proves nothing about the rest.
        const newestRead = Math.min(Date.parse(result.newestPublished), requestedAt);
        completeUntil = Math.max(completeUntil, newestRead);
      }
      // Polling pages always carry `next`; should one not, this page is read again next time.
      const nextUrl = page.next ?? url;
      // Checked before it is saved: a cursor that cannot be followed would stop every later pass.
      if (page.next !== undefined) assertFollowable(client, page.next, "Okta's next link");
      if (!bounded) {
        const saved = {
          nextUrl,
          query,
          completeUntil: new Date(completeUntil).toISOString(),
          savedAt: new Date(now()).toISOString(),
        };
        version = await cursors.save(client.orgUrl, saved, version);
        cursor = { ...saved, version };
      }
      options.onPage?.(finish());
      if (exhausted) {
        result.status = bounded ? 'done' : 'caught-up';
        break;
      }
      if (pagesWithoutNewEvents >= MAX_PAGES_WITHOUT_NEW_EVENTS) {
        throw new PagingError(
          `Okta answered ${pagesWithoutNewEvents} pages in a row holding only events this pass had read already: stopping the pass (cursor saved); ${CURSOR_RESET_HINT} if it persists`,
        );
      }
      url = nextUrl;
    }
  } catch (error) {
    if (options.signal?.aborted) {
      result.status = 'deadline';
      result.reason = 'stopped on request; the cursor is saved up to the last page stored';
    } else if (error instanceof DeadlineReached) {
      result.status = 'deadline';
      result.reason = error.message;
    } else {
      result.status = 'failed';
      result.error = error;
      result.reason = describeFailure(error);
    }
  }
  return finish();
}

/** A link the client will not follow (another origin) fails the pass, saying how to recover. */
function assertFollowable(client: SystemLogClient, url: string, what: string): void {
  try {
    client.assertOrgUrl(url);
  } catch (error) {
    throw new PagingError(
      `${what} cannot be followed: ${(error as Error).message}; the cursor stays at the last good page; ${CURSOR_RESET_HINT}`,
    );
  }
}

/** A link in a line, as the URL parser encodes it (no raw control character), cut short. */
function describeLink(url: string): string {
  const parsed = new URL(url);
  const text = parsed.pathname + parsed.search;
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** A pass that has done nothing yet; `failedPass` when it could not even start. */
export function emptyResult(org: string): PassResult {
  return {
    status: 'failed',
    org,
    from: 'cursor',
    eventTypes: '*',
    pages: 0,
    read: 0,
    recovered: 0,
    alreadyStored: 0,
    notStored: 0,
    hookDeliveryFailures: 0,
    requests: 0,
    tokenRequests: 0,
    rateLimited: 0,
    rateLimitWaitMs: 0,
    lagSeconds: undefined,
    newestPublished: undefined,
    ms: 0,
  };
}

export function failedPass(orgUrl: string | undefined, error: unknown, ms = 0): PassResult {
  return {
    ...emptyResult(orgUrl ? new URL(orgUrl).host : '-'),
    ms,
    reason: describeFailure(error),
    error,
  };
}

/** The pass's one log line: its counts and words, not the error object. */
export function passLog(result: PassResult): ReconcileLog {
  const { error: _error, eventTypes, ...fields } = result;
  return {
    level: result.status === 'failed' ? 'error' : result.recovered > 0 ? 'warn' : 'info',
    ...fields,
    // A hook may name 300 types: the line names a few, and counts the rest.
    eventTypes:
      eventTypes === '*' || eventTypes.length <= 10
        ? eventTypes
        : [...eventTypes.slice(0, 10), `+${eventTypes.length - 10} more`],
  };
}

/** One line for the log and the CLI: our own words and Okta's error summary, never a secret. */
export function describeFailure(error: unknown): string {
  if (error instanceof CursorConflictError || error instanceof PagingError) return error.message;
  if (error instanceof StorageUnavailableError) return error.message;
  const err = error as Error & { name?: string };
  if (err?.name === 'ResourceNotFoundException') return 'the events table does not exist';
  if (err?.name === 'ConfigError' || err?.name === 'OktaApiError') return err.message;
  return `${err?.name ?? 'Error'}: ${err?.message ?? String(error)}`;
}
