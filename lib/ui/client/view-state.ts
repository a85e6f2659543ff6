/**
 * What the page shows, as it lives in the URL: the view (events or deliveries), filters, page,
 * live mode and the open event or delivery, so any view can be bookmarked and shared. Pure: no
 * DOM, unit-tested in Node.
 */

/** Quick time ranges, counted back from now whenever the view is (re)loaded. */
export const RANGES: Record<string, { label: string; ms: number }> = {
  '15m': { label: 'Last 15 minutes', ms: 15 * 60_000 },
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last 24 hours', ms: 86_400_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000 },
  '90d': { label: 'Last 90 days', ms: 90 * 86_400_000 },
};

export interface Filters {
  type?: string;
  /** Actor or target, by Okta id or login. */
  user?: string;
  /** A key of RANGES; exclusive with since/until. */
  range?: string;
  /** Canonical ISO times: since inclusive, until exclusive. */
  since?: string;
  until?: string;
}

export interface ViewState extends Filters {
  /**
   * The deliveries view; absent for the events view. The deliveries view uses the time range
   * (of first receipt), the page and `delivery` (the one open); type, user, live and event are
   * the events view's.
   */
  view?: 'deliveries';
  /**
   * Events view: show the events this delivery carried (in its order) instead of the filters'.
   * Deliveries view: the delivery open in the detail panel.
   */
  delivery?: string;
  /** The read API cursor of the page shown; none for the newest page. */
  cursor?: string;
  /**
   * The moment a quick range was counted back from when paging began: a cursor only continues
   * the exact query it came from, so later pages must resolve the range the same way.
   */
  at?: string;
  /** Page size. */
  limit?: number;
  live: boolean;
  /** uuid of the event open in the detail panel. */
  event?: string;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

function isoOrUndefined(value: string | null): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function text(value: string | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The view a query string describes; what cannot be understood is left out, not guessed. */
export function parseView(search: string): ViewState {
  const params = new URLSearchParams(search);
  const view: ViewState = { live: params.get('live') === '1' };
  if (params.get('view') === 'deliveries') view.view = 'deliveries';
  const type = text(params.get('type'));
  if (type) view.type = type;
  const user = text(params.get('user'));
  if (user) view.user = user;
  const range = params.get('range');
  if (range && Object.hasOwn(RANGES, range)) {
    view.range = range;
  } else {
    const since = isoOrUndefined(params.get('since'));
    const until = isoOrUndefined(params.get('until'));
    if (since) view.since = since;
    if (until) view.until = until;
  }
  const cursor = text(params.get('cursor'));
  if (cursor) view.cursor = cursor;
  const at = isoOrUndefined(params.get('at'));
  if (at && cursor) view.at = at;
  const limit = Number(params.get('limit'));
  if (Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT) view.limit = limit;
  const event = text(params.get('event'));
  if (event) view.event = event;
  const delivery = text(params.get('delivery'));
  if (delivery) view.delivery = delivery;
  return view;
}

/** The query string for a view (`?…`, or '' for the default view), in a stable order. */
export function viewToSearch(view: ViewState): string {
  const params = new URLSearchParams();
  if (view.view) params.set('view', view.view);
  if (view.type) params.set('type', view.type);
  if (view.user) params.set('user', view.user);
  if (view.range) params.set('range', view.range);
  else {
    if (view.since) params.set('since', view.since);
    if (view.until) params.set('until', view.until);
  }
  if (view.limit && view.limit !== DEFAULT_LIMIT) params.set('limit', String(view.limit));
  if (view.cursor) params.set('cursor', view.cursor);
  if (view.cursor && view.at) params.set('at', view.at);
  if (view.live) params.set('live', '1');
  if (view.event) params.set('event', view.event);
  if (view.delivery) params.set('delivery', view.delivery);
  const search = params.toString();
  return search ? `?${search}` : '';
}

/** The filters alone: what the list, the chart and an export have in common. */
export function filtersOf(view: ViewState): Filters {
  const { type, user, range, since, until } = view;
  return { type, user, range, since, until };
}

export function sameFilters(a: Filters, b: Filters): boolean {
  return (
    a.type === b.type &&
    a.user === b.user &&
    a.range === b.range &&
    a.since === b.since &&
    a.until === b.until
  );
}

/** The time range as absolute times, a quick range counted back from `nowMs`. */
export function resolveRange(filters: Filters, nowMs: number): { since?: string; until?: string } {
  if (filters.range) {
    const range = RANGES[filters.range];
    if (range) return { since: new Date(nowMs - range.ms).toISOString() };
  }
  return { since: filters.since, until: filters.until };
}

/** The read API's query parameters for the filters (GET /events, /event-counts). */
export function apiParams(filters: Filters, nowMs: number): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.type) params.set('type', filters.type);
  if (filters.user) params.set('user', filters.user);
  const { since, until } = resolveRange(filters, nowMs);
  if (since) params.set('since', since);
  if (until) params.set('until', until);
  return params;
}

/** The deliveries view, on its newest page, with `delivery` open. */
export function deliveryView(delivery: string | undefined): ViewState {
  return { view: 'deliveries', delivery, live: false };
}

/** The events view listing what one delivery carried. */
export function deliveryEventsView(delivery: string): ViewState {
  return { delivery, live: false };
}

/** Whether new events can still appear in this view: live mode makes sense only then. */
export function isOpenEnded(filters: Filters, nowMs: number): boolean {
  return filters.until === undefined || Date.parse(filters.until) > nowMs;
}
