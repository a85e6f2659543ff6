/**
 * The fake org's System Log (`GET /api/v1/logs`, DESIGN.md §8), moved out of fake-org.ts
 * unchanged: polling requests (`since`, no `until`: by persistence time, `next` link always, also
 * on an empty page) and bounded ones (`since` + `until`: by `published`, no `next` on the last
 * page); opaque `after` cursors; `since` with `after` refused (400); `filter` (`eventType eq "…"`
 * joined with `or`). Link header style stays in fake-org.ts; authentication is in
 * fake-org-auth.ts, rate limits in fake-org-rate-limit.ts.
 *
 * Events are kept as the exact JSON text they were added with, so a test can compare what the
 * reconciler stored byte for byte.
 */
import { oktaError } from './okta-errors';

const DAY_MS = 86_400_000;
/** Okta keeps the System Log 90 days and refuses a `since` older than 180. */
const RETENTION_MS = 90 * DAY_MS;
const MAX_SINCE_AGE_MS = 180 * DAY_MS;
/** Without `since`, Okta starts seven days back. */
const DEFAULT_SINCE_MS = 7 * DAY_MS;

interface StoredEvent {
  text: string;
  uuid: string;
  eventType: string;
  publishedMs: number;
  persistedMs: number;
  seq: number;
}

/** `eventType eq "a" or eventType eq "b"`, optionally in parentheses; undefined = no filter. */
export function parseEventTypeFilter(filter: string | null): Set<string> | undefined {
  if (filter === null) return undefined;
  let text = filter.trim();
  while (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1).trim();
  const types = new Set<string>();
  for (const term of text.split(/\s+or\s+/i)) {
    const match = /^\(?\s*eventType\s+eq\s+"([^"\\]+)"\s*\)?$/i.exec(term.trim());
    if (!match) {
      throw oktaError(400, 'E0000031', 'Invalid search criteria.', [
        `The fake org understands only eventType eq "…" terms joined with or: ${term.slice(0, 80)}`,
      ]);
    }
    types.add(match[1]!);
  }
  return types;
}

function parseTime(value: string, name: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw oktaError(400, 'E0000001', 'Api validation failed: ' + name, [
      `${name}: The date format is invalid. It must be ISO 8601.`,
    ]);
  }
  return ms;
}

/** `after` cursors: opaque to clients (they only follow links), `<ms>_<seq>` here as at Okta. */
function parseAfter(value: string): { ms: number; seq: number } {
  const match = /^(\d+)_(\d+)$/.exec(value);
  if (!match) {
    throw oktaError(400, 'E0000001', 'Api validation failed: after', [
      'after: The cursor is invalid.',
    ]);
  }
  return { ms: Number(match[1]), seq: Number(match[2]) };
}

export interface LogPageAnswer {
  /** `<…>; rel="self"` and, when there is one, `<…>; rel="next"`. */
  links: string[];
  /** The JSON array of the page's events, each exactly as added. */
  body: string;
  count: number;
}

export class FakeSystemLog {
  private readonly events: StoredEvent[] = [];
  private seq = 0;
  private lastPersisted = 0;

  constructor(private readonly now: () => number) {}

  /**
   * Records events, persisted now (late events are events published earlier), or at
   * `persistedAtMs` for history that was already there (never before an earlier event).
   */
  addEvents(list: ReadonlyArray<string | object>, persistedAtMs?: number): void {
    for (const item of list) {
      const text = typeof item === 'string' ? item : JSON.stringify(item);
      const event = JSON.parse(text) as { uuid: string; eventType: string; published: string };
      // Persistence times only go up, even when two events arrive in the same millisecond.
      this.lastPersisted = Math.max(persistedAtMs ?? this.now(), this.lastPersisted);
      this.events.push({
        text,
        uuid: event.uuid,
        eventType: event.eventType,
        publishedMs: Date.parse(event.published),
        persistedMs: this.lastPersisted,
        seq: ++this.seq,
      });
    }
  }

  eventTexts(): string[] {
    return this.events.map((e) => e.text);
  }

  /**
   * One page of `GET /api/v1/logs?query`; `self` is the request's URL, `baseUrl` the org's;
   * `rewriteNextLink` misbehaves on demand (FakeOrg.rewriteNextLink).
   */
  query(
    query: URLSearchParams,
    self: URL,
    baseUrl: string,
    rewriteNextLink?: (next: string, self: string) => string | undefined,
  ): LogPageAnswer {
    const since = query.get('since');
    const until = query.get('until');
    const after = query.get('after');
    if (since !== null && after !== null) {
      throw oktaError(400, 'E0000001', 'Api validation failed: after', [
        'after: The after parameter cannot be used together with since.',
      ]);
    }
    const limitText = query.get('limit') ?? '100';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 1000) {
      throw oktaError(400, 'E0000001', 'Api validation failed: limit', [
        'limit: The limit must be between 0 and 1000.',
      ]);
    }
    const sortOrder = query.get('sortOrder') ?? 'ASCENDING';
    if (sortOrder !== 'ASCENDING') {
      throw oktaError(400, 'E0000001', 'Api validation failed: sortOrder', [
        'sortOrder: the fake org serves ASCENDING only.',
      ]);
    }
    const sinceMs = since === null ? undefined : parseTime(since, 'since');
    const untilMs = until === null ? undefined : parseTime(until, 'until');
    if (sinceMs !== undefined && sinceMs < this.now() - MAX_SINCE_AGE_MS) {
      throw oktaError(400, 'E0000001', 'Api validation failed: since', [
        'since: The since parameter cannot be more than 180 days in the past.',
      ]);
    }
    const types = parseEventTypeFilter(query.get('filter'));
    const cursor = after === null ? undefined : parseAfter(after);
    const oldest = this.now() - RETENTION_MS;
    // An event whose `published` is not a time (NaN) is kept, as Okta would keep it.
    const wanted = (e: StoredEvent) =>
      !(e.publishedMs < oldest) && (types === undefined || types.has(e.eventType));

    let page: StoredEvent[];
    let nextAfter: string | undefined;
    if (untilMs === undefined) {
      // Polling: by persistence; the cursor moves past everything scanned, matching or not.
      page = [];
      let last: StoredEvent | undefined;
      for (const e of this.events) {
        if (
          cursor ? e.seq <= cursor.seq : e.persistedMs < (sinceMs ?? this.now() - DEFAULT_SINCE_MS)
        ) {
          continue;
        }
        if (page.length >= limit) break;
        last = e;
        if (wanted(e)) page.push(e);
      }
      if (last) nextAfter = `${last.persistedMs}_${last.seq}`;
      else if (cursor) nextAfter = after!;
      else nextAfter = `${this.lastPersisted}_${this.seq}`;
    } else {
      // Bounded: by published, then persistence; no next link once the window is exhausted.
      const key = (e: StoredEvent) => [e.publishedMs, e.seq] as const;
      const matching = this.events
        .filter(
          (e) =>
            wanted(e) &&
            e.publishedMs < untilMs &&
            (sinceMs === undefined || e.publishedMs >= sinceMs) &&
            (!cursor ||
              key(e)[0] > cursor.ms ||
              (key(e)[0] === cursor.ms && key(e)[1] > cursor.seq)),
        )
        .sort((a, b) => a.publishedMs - b.publishedMs || a.seq - b.seq);
      page = matching.slice(0, limit);
      const last = page.at(-1);
      if (matching.length > page.length && last) nextAfter = `${last.publishedMs}_${last.seq}`;
    }

    const links = [`<${self.toString()}>; rel="self"`];
    if (nextAfter !== undefined) {
      const next = new URL('/api/v1/logs', baseUrl);
      for (const [name, value] of query)
        if (name !== 'since' && name !== 'after') next.searchParams.append(name, value);
      next.searchParams.set('after', nextAfter);
      const link = rewriteNextLink?.(next.toString(), self.toString()) ?? next.toString();
      links.push(`<${link}>; rel="next"`);
    }
    return { links, body: `[${page.map((e) => e.text).join(',')}]`, count: page.length };
  }
}
