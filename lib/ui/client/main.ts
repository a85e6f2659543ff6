/**
 * The event browser's page: sign-in, then the events view (filters in the URL, cursor paging,
 * click-to-filter, the count chart, export, live mode, or the events one delivery carried) and
 * its detail panel (the event's JSON, the deliveries that carried it, its reactions), and the deliveries
 * view (deliveries-view.ts).
 *
 * Navigation: every view lives in the URL (view-state.ts). Changing view, filters or pages
 * pushes a history entry; opening or closing an event or a delivery and toggling live mode
 * replace the current one. The cursors of earlier pages ride along in history.state, so Back
 * works after a reload too. Links between views are real links (data-nav) taken in-page.
 */
import './style.css';
import * as api from './api';
import { chartSummary, renderChart } from './chart';
import { createDeliveriesView } from './deliveries-view';
import { renderCarriers } from './delivery-detail';
import { renderDetail, renderReactions } from './detail';
import { sessionNote, showSignInOptions } from './sign-in-options';
import { byId, h, number, show } from './dom';
import { type EventMeta, type EventRow, eventRow } from './event-fields';
import { eventRowView, headerRow } from './events-table';
import { type ExportFormat, download, exportEvents, exportFileName } from './export';
import { fromLocalInput, localTime, toLocalInput } from './time-format';
import {
  DEFAULT_LIMIT,
  type Filters,
  RANGES,
  type ViewState,
  apiParams,
  deliveryView,
  filtersOf,
  isOpenEnded,
  parseView,
  sameFilters,
  viewToSearch,
} from './view-state';

const LIVE_INTERVAL_MS = 5000;
/** Live polls re-read this far behind the newest event shown: deliveries arrive out of order. */
const LIVE_OVERLAP_MS = 60_000;
const LIVE_PAGE = 100;
const MAX_LIVE_ROWS = 500;
/** Live mode recounts the chart at most this often: a count reads the whole range's keys. */
const LIVE_CHART_EVERY_MS = 60_000;

interface Shown {
  row: EventRow;
  meta: EventMeta;
}

let view: ViewState = parseView(location.search);
/** Cursors of the pages before this one, oldest first ('' is the newest page). */
let back: string[] = [];
let shown: Shown[] = [];
let nextCursor: string | null = null;
/** The moment the current page resolved its quick range from (see ViewState.at). */
let pageNow = Date.now();
let listGeneration = 0;
/** The query of the list shown: opening an event or toggling live mode does not reload it. */
let listKey: string | undefined;
let chartGeneration = 0;
let chartFilters: Filters | undefined;
let chartLoadedAt = 0;
let lastCounts: api.EventCounts | undefined;
let detailUuid: string | undefined;
let detailPretty = '';
let liveTimer: number | undefined;
let polling = false;
let exportController: AbortController | undefined;

/**
 * Finished loads, on <body data-list-loads data-chart-loads data-detail-loads
 * data-delivery-list-loads data-delivery-loads>: lets a test (or a person with devtools) tell
 * a settled view from one still loading. An event's detail counts once its deliveries and
 * reactions are in.
 */
function loaded(what: 'list' | 'chart' | 'detail' | 'deliveryList' | 'delivery'): void {
  const key = `${what}Loads` as const;
  document.body.dataset[key] = String(Number(document.body.dataset[key] ?? 0) + 1);
}

const els = {
  fatal: byId('fatal'),
  signIn: byId('sign-in'),
  signInForm: byId<HTMLFormElement>('sign-in-form'),
  signInError: byId('sign-in-error'),
  token: byId<HTMLInputElement>('token'),
  signOut: byId<HTMLButtonElement>('sign-out'),
  sessionNote: byId('session-note'),
  browser: byId('browser'),
  tabEvents: byId<HTMLAnchorElement>('tab-events'),
  tabDeliveries: byId<HTMLAnchorElement>('tab-deliveries'),
  scope: byId('delivery-scope'),
  scopeId: byId('delivery-scope-id'),
  scopeBack: byId<HTMLAnchorElement>('delivery-scope-back'),
  chartSection: byId('chart-section'),
  eventsSection: byId('events-section'),
  listOrder: byId('list-order'),
  liveToggle: byId('live-toggle'),
  exportButtons: byId('export-buttons'),
  filters: byId<HTMLFormElement>('filters'),
  type: byId<HTMLSelectElement>('f-type'),
  user: byId<HTMLInputElement>('f-user'),
  range: byId<HTMLSelectElement>('f-range'),
  since: byId<HTMLInputElement>('f-since'),
  until: byId<HTMLInputElement>('f-until'),
  clear: byId<HTMLButtonElement>('clear-filters'),
  chart: byId('chart'),
  chartSummary: byId('chart-summary'),
  live: byId<HTMLInputElement>('live'),
  liveStatus: byId('live-status'),
  exportCsv: byId<HTMLButtonElement>('export-csv'),
  exportJsonl: byId<HTMLButtonElement>('export-jsonl'),
  exportCancel: byId<HTMLButtonElement>('export-cancel'),
  exportStatus: byId('export-status'),
  listStatus: byId('list-status'),
  table: byId<HTMLTableElement>('events'),
  newest: byId<HTMLButtonElement>('page-newest'),
  back: byId<HTMLButtonElement>('page-back'),
  next: byId<HTMLButtonElement>('page-next'),
  pageInfo: byId('page-info'),
  detail: byId('detail'),
  detailClose: byId<HTMLButtonElement>('detail-close'),
  detailCopy: byId<HTMLButtonElement>('detail-copy'),
  detailJson: byId('detail-json'),
  carriers: byId('detail-deliveries'),
  carriersList: byId('detail-deliveries-list'),
  carriersStatus: byId('detail-deliveries-status'),
  reactions: byId('detail-reactions'),
  reactionsList: byId('detail-reactions-list'),
  reactionsStatus: byId('detail-reactions-status'),
};

const deliveries = createDeliveriesView({ go, handleError, loaded });

// ---- navigation ----------------------------------------------------------------------------

function go(next: ViewState, options: { replace?: boolean; back?: string[] } = {}): void {
  view = next;
  back = options.back ?? [];
  const url = location.pathname + viewToSearch(view);
  if (options.replace) history.replaceState({ back }, '', url);
  else history.pushState({ back }, '', url);
  render();
}

/** A new filter: back to the newest page; live mode and the open event stay. */
function applyFilters(filters: Filters): void {
  go({ ...filters, live: view.live, limit: view.limit, event: view.event });
}

function render(): void {
  const onDeliveries = view.view === 'deliveries';
  setCurrentTab(onDeliveries ? els.tabDeliveries : els.tabEvents);
  show(els.eventsSection, !onDeliveries);
  if (onDeliveries) {
    show(els.scope, false);
    show(els.filters, false);
    show(els.chartSection, false);
    stopLive();
    syncDetail();
    deliveries.render(view, back);
    return;
  }
  deliveries.hide();
  // The events of one delivery: its list alone, without the filters, chart, export or live mode.
  const scoped = view.delivery !== undefined;
  show(els.scope, scoped);
  show(els.filters, !scoped);
  show(els.chartSection, !scoped);
  show(els.liveToggle, !scoped);
  show(els.exportButtons, !scoped);
  els.listOrder.textContent = scoped ? 'in the order the delivery carried them' : 'newest first';
  if (scoped) {
    els.scopeId.textContent = view.delivery!;
    els.scopeBack.href = `ui${viewToSearch(deliveryView(view.delivery))}`;
  }
  fillFilterForm();
  const { cursor, at, limit, delivery } = view;
  const key = viewToSearch({ ...filtersOf(view), delivery, cursor, at, limit, live: false });
  if (key !== listKey) {
    listKey = key;
    void loadList();
  }
  if (!scoped && (!chartFilters || !sameFilters(chartFilters, filtersOf(view)))) void loadChart();
  syncDetail();
  syncLive();
}

function setCurrentTab(current: HTMLAnchorElement): void {
  for (const tab of [els.tabEvents, els.tabDeliveries]) {
    if (tab === current) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
}

/** A plain click on an in-page link (data-nav) navigates here; others open as links do. */
function onNavClick(event: MouseEvent): void {
  const link = (event.target as Element).closest<HTMLAnchorElement>('a[data-nav]');
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  if (event.altKey || link.target) return;
  event.preventDefault();
  go(parseView(new URL(link.href).search));
}

// ---- errors and session --------------------------------------------------------------------

function handleError(error: unknown, status: HTMLElement): void {
  if ((error as Error).name === 'AbortError') return;
  if (error instanceof api.SignedOutError) {
    showSignIn('Your session has ended: sign in again.');
    return;
  }
  if (!(error instanceof api.ApiError)) console.error(error); // ours, not the service's answer
  status.textContent = error instanceof Error ? error.message : String(error);
  status.classList.add('error');
}

function setStatus(element: HTMLElement, text: string): void {
  element.textContent = text;
  element.classList.remove('error');
}

function showFatal(message: string): void {
  els.fatal.textContent = message;
  show(els.fatal, true);
  show(els.signIn, false);
  show(els.browser, false);
  show(els.detail, false);
}

function showSignIn(message = ''): void {
  stopLive();
  shown = [];
  els.table.tBodies[0]!.replaceChildren();
  show(els.browser, false);
  show(els.detail, false);
  deliveries.hide();
  show(els.signOut, false);
  els.sessionNote.textContent = '';
  show(els.signIn, true);
  els.signInError.textContent = message;
  if (showSignInOptions(signIns)) els.token.focus();
}

/** The last answer of GET /ui/session: which sign-ins to offer after a sign-out. */
let signIns: api.SessionState | undefined;

function startBrowser(session: api.SessionState): void {
  show(els.signIn, false);
  show(els.browser, true);
  show(els.signOut, session.tokenRequired);
  els.sessionNote.textContent = sessionNote(session);
  back = (history.state as { back?: string[] } | null)?.back ?? [];
  chartFilters = undefined;
  listKey = undefined;
  detailUuid = undefined;
  deliveries.reset();
  void loadEventTypes();
  render();
}

async function onSignIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  els.signInError.textContent = '';
  try {
    const session = await api.signIn(els.token.value);
    els.token.value = '';
    startBrowser(session);
  } catch (error) {
    els.signInError.textContent = error instanceof Error ? error.message : String(error);
    els.token.select();
  }
}

async function onSignOut(): Promise<void> {
  let logoutUrl: string | undefined;
  try {
    logoutUrl = await api.signOut();
  } finally {
    // After an Okta sign-in, Okta's own session ends too, then Okta sends the browser back.
    if (logoutUrl) location.assign(logoutUrl);
    else showSignIn('Signed out.');
  }
}

// ---- filters -------------------------------------------------------------------------------

function ensureTypeOption(type: string): void {
  if (![...els.type.options].some((o) => o.value === type)) {
    els.type.append(h('option', { value: type }, type));
  }
}

async function loadEventTypes(): Promise<void> {
  try {
    const types = await api.listEventTypes();
    els.type.replaceChildren(h('option', { value: '' }, 'All event types'));
    for (const { eventType, lastSeenAt } of types) {
      els.type.append(
        h(
          'option',
          { value: eventType, title: `last received ${localTime(lastSeenAt)}` },
          eventType,
        ),
      );
    }
    fillFilterForm();
  } catch (error) {
    handleError(error, els.listStatus);
  }
}

function fillFilterForm(): void {
  if (view.type) ensureTypeOption(view.type);
  els.type.value = view.type ?? '';
  els.user.value = view.user ?? '';
  const custom = !view.range && (view.since !== undefined || view.until !== undefined);
  els.range.value = view.range ?? (custom ? 'custom' : '');
  els.since.value = toLocalInput(view.since);
  els.until.value = toLocalInput(view.until);
  showCustomRange(custom);
}

function showCustomRange(visible: boolean): void {
  for (const field of els.filters.querySelectorAll<HTMLElement>('.field.custom')) {
    show(field, visible);
  }
}

function filtersFromForm(): Filters {
  const filters: Filters = {};
  if (els.type.value) filters.type = els.type.value;
  const user = els.user.value.trim();
  if (user) filters.user = user;
  if (els.range.value === 'custom') {
    filters.since = fromLocalInput(els.since.value);
    filters.until = fromLocalInput(els.until.value);
  } else if (els.range.value) {
    filters.range = els.range.value;
  }
  return filters;
}

// ---- the list ------------------------------------------------------------------------------

function drawRows(fresh: Set<string>): void {
  els.table.tBodies[0]!.replaceChildren(
    ...shown.map(({ row }) => eventRowView(row, fresh.has(row.uuid))),
  );
  markSelectedRow();
}

/** The row of the event open in the detail panel. */
function markSelectedRow(): void {
  for (const row of els.table.tBodies[0]!.rows) {
    const selected = row.dataset.uuid === view.event;
    row.classList.toggle('is-selected', selected);
    if (selected) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');
  }
}

async function loadList(): Promise<void> {
  const generation = ++listGeneration;
  pageNow = view.at ? Date.parse(view.at) : Date.now();
  const delivery = view.delivery;
  const params = delivery ? new URLSearchParams() : apiParams(filtersOf(view), pageNow);
  params.set('limit', String(view.limit ?? DEFAULT_LIMIT));
  if (view.cursor) params.set('cursor', view.cursor);
  setStatus(els.listStatus, 'Loading…');
  els.table.setAttribute('aria-busy', 'true');
  try {
    const page = delivery
      ? await api.listDeliveryEvents(delivery, params)
      : { ...(await api.listEvents(params)), notStored: [] };
    if (generation !== listGeneration) return;
    shown = page.events.map((event, i) => {
      const meta = page.meta[i] ?? { uuid: '' };
      return { row: eventRow(event, meta), meta };
    });
    nextCursor = page.nextCursor;
    drawRows(new Set());
    const missing = page.notStored.length;
    setStatus(
      els.listStatus,
      missing > 0
        ? `${number.format(missing)} event${missing === 1 ? '' : 's'} of this delivery ${missing === 1 ? 'is' : 'are'} not stored (yet): ${page.notStored.join(', ')}`
        : shown.length > 0
          ? ''
          : delivery
            ? 'This delivery carried no events that could be stored.'
            : 'No events match these filters.',
    );
  } catch (error) {
    if (generation !== listGeneration) return;
    shown = [];
    nextCursor = null;
    listKey = undefined; // the same view asked again tries again
    drawRows(new Set());
    handleError(error, els.listStatus);
  } finally {
    if (generation === listGeneration) {
      els.table.removeAttribute('aria-busy');
      updatePager();
      loaded('list');
    }
  }
}

function updatePager(): void {
  els.newest.disabled = !view.cursor;
  els.back.disabled = !view.cursor;
  els.next.disabled = !nextCursor;
  const page = view.cursor
    ? back.length > 0
      ? `Page ${back.length + 1}`
      : 'An older page'
    : 'Page 1';
  const rows = shown.length === 1 ? '1 event' : `${number.format(shown.length)} events`;
  els.pageInfo.textContent = `${page} · ${rows}`;
}

function nextPage(): void {
  if (!nextCursor) return;
  // A quick range is pinned to the moment page 1 was read, so the cursor's query stays the same.
  const at = view.range ? (view.at ?? new Date(pageNow).toISOString()) : undefined;
  go({ ...view, cursor: nextCursor, at, live: false }, { back: [...back, view.cursor ?? ''] });
}

function previousPage(): void {
  const previous = back.at(-1) ?? '';
  go(
    { ...view, cursor: previous || undefined, at: previous ? view.at : undefined },
    { back: back.slice(0, -1) },
  );
}

function onTableClick(event: MouseEvent): void {
  const target = event.target as Element;
  const filter = target.closest<HTMLElement>('[data-filter]');
  if (filter) {
    const value = filter.dataset.value ?? '';
    const filters = filtersOf(view);
    if (filter.dataset.filter === 'type') filters.type = value;
    else filters.user = value;
    applyFilters(filters);
    return;
  }
  const row = target.closest<HTMLTableRowElement>('tr[data-uuid]');
  if (!row || (target.closest('a, button') && !target.closest('[data-action="open"]'))) return;
  if (!target.closest('[data-action="open"]') && getSelection()?.toString()) return; // selecting text
  openEvent(row.dataset.uuid!);
}

// ---- chart ---------------------------------------------------------------------------------

async function loadChart(): Promise<void> {
  const generation = ++chartGeneration;
  const filters = filtersOf(view);
  chartFilters = filters;
  chartLoadedAt = Date.now();
  setStatus(els.chartSummary, 'Counting…');
  try {
    const counts = await api.countEvents(
      apiParams(filters, view.at ? Date.parse(view.at) : Date.now()),
    );
    if (generation !== chartGeneration) return;
    lastCounts = counts;
    drawChart();
    setStatus(els.chartSummary, chartSummary(counts));
    loaded('chart');
  } catch (error) {
    if (generation !== chartGeneration) return;
    chartFilters = undefined;
    els.chart.replaceChildren();
    handleError(error, els.chartSummary);
    loaded('chart');
  }
}

function drawChart(): void {
  if (!lastCounts) return;
  renderChart(els.chart, lastCounts, (since, until) =>
    applyFilters({ ...filtersOf(view), range: undefined, since, until }),
  );
}

// ---- detail panel --------------------------------------------------------------------------

function openEvent(uuid: string): void {
  go({ ...view, event: uuid }, { replace: true, back });
}

function closeEvent(): void {
  const uuid = view.event;
  go({ ...view, event: undefined }, { replace: true, back });
  const opener = uuid
    ? els.table.querySelector<HTMLElement>(
        `tr[data-uuid="${CSS.escape(uuid)}"] [data-action="open"]`,
      )
    : null;
  opener?.focus();
}

function syncDetail(): void {
  markSelectedRow();
  if (!view.event || view.view === 'deliveries') {
    detailUuid = undefined;
    show(els.detail, false);
    document.body.classList.remove('detail-open');
    return;
  }
  if (view.event === detailUuid) return;
  detailUuid = view.event;
  void loadDetail(view.event);
}

async function loadDetail(uuid: string): Promise<void> {
  show(els.detail, true);
  document.body.classList.add('detail-open');
  byId('detail-title').textContent = 'Loading…';
  byId('detail-summary').replaceChildren();
  els.detailJson.replaceChildren();
  els.detailJson.classList.remove('error');
  show(els.carriers, false);
  els.carriersList.replaceChildren();
  show(els.reactions, false);
  els.reactionsList.replaceChildren();
  detailPretty = '';
  els.detail.focus();
  try {
    // All at once: the deliveries and reactions of an event that turns out not to exist are
    // not shown.
    const carriers = api.listEventDeliveries(uuid);
    carriers.catch(() => undefined); // handled below, once the event is known
    const reactions = api.listEventReactions(uuid);
    reactions.catch(() => undefined);
    const text = await api.getEventText(uuid);
    if (uuid !== detailUuid) return;
    if (text === undefined) {
      byId('detail-title').textContent = 'No such event';
      els.detailJson.textContent = `No event with uuid ${uuid} is stored.`;
      return;
    }
    const meta = shown.find((s) => s.row.uuid === uuid)?.meta;
    detailPretty = renderDetail(text, meta);
    show(els.carriers, true);
    setStatus(els.carriersStatus, 'Loading…');
    await Promise.all([
      carriers.then(
        (found) => {
          if (uuid === detailUuid) renderCarriers(els.carriersList, els.carriersStatus, found);
        },
        (error: unknown) => {
          if (uuid === detailUuid) handleError(error, els.carriersStatus);
        },
      ),
      // Hidden until it answers: most events have no reactions, and the section would flicker.
      reactions.then(
        (outcomes) => {
          if (uuid !== detailUuid) return;
          setStatus(els.reactionsStatus, '');
          renderReactions(els.reactions, els.reactionsList, outcomes);
        },
        (error: unknown) => {
          if (uuid !== detailUuid) return;
          show(els.reactions, true);
          handleError(error, els.reactionsStatus);
          // The rest of the panel stands; this section says what failed.
          if (!(error instanceof api.SignedOutError)) {
            els.reactionsStatus.prepend('Its reactions could not be read: ');
          }
        },
      ),
    ]);
  } catch (error) {
    if (uuid === detailUuid) handleError(error, els.detailJson);
  } finally {
    if (uuid === detailUuid) loaded('detail');
  }
}

async function copyJson(): Promise<void> {
  try {
    await navigator.clipboard.writeText(detailPretty);
    els.detailCopy.textContent = 'Copied';
  } catch {
    getSelection()?.selectAllChildren(els.detailJson); // clipboard refused: select it instead
    els.detailCopy.textContent = 'Selected';
  }
  setTimeout(() => (els.detailCopy.textContent = 'Copy'), 1500);
}

// ---- live mode -----------------------------------------------------------------------------

function liveAllowed(): boolean {
  return view.delivery === undefined && isOpenEnded(filtersOf(view), Date.now());
}

function syncLive(): void {
  const allowed = liveAllowed();
  els.live.checked = view.live && allowed;
  els.live.disabled = !allowed;
  els.live.title = allowed ? '' : 'Live mode needs a time range that reaches now';
  if (view.live && allowed && !view.cursor) {
    if (liveTimer === undefined) {
      liveTimer = window.setInterval(() => void poll(), LIVE_INTERVAL_MS);
      setStatus(
        els.liveStatus,
        `Live: checking for new events every ${LIVE_INTERVAL_MS / 1000} s.`,
      );
    }
  } else {
    stopLive();
  }
}

function stopLive(): void {
  if (liveTimer !== undefined) window.clearInterval(liveTimer);
  liveTimer = undefined;
  els.liveStatus.textContent = '';
}

function onLiveToggle(): void {
  // Live shows the newest events: it always starts from page 1.
  if (els.live.checked)
    go({ ...view, live: true, cursor: undefined, at: undefined }, { replace: true });
  else go({ ...view, live: false }, { replace: true, back });
}

async function poll(): Promise<void> {
  if (polling) return;
  polling = true;
  const generation = listGeneration;
  try {
    const params = apiParams(filtersOf(view), Date.now());
    const newest = Math.max(0, ...shown.map((s) => Date.parse(s.row.published) || 0));
    if (newest > 0) {
      const floor = Date.parse(params.get('since') ?? '') || 0;
      params.set('since', new Date(Math.max(newest - LIVE_OVERLAP_MS, floor)).toISOString());
    }
    params.set('limit', String(LIVE_PAGE));
    const page = await api.listEvents(params);
    if (generation !== listGeneration || !view.live) return;
    const known = new Set(shown.map((s) => s.row.uuid));
    const fresh: Shown[] = [];
    page.events.forEach((event, i) => {
      const meta = page.meta[i] ?? { uuid: '' };
      const row = eventRow(event, meta);
      if (!known.has(row.uuid)) fresh.push({ row, meta });
    });
    const at = localTime(new Date().toISOString(), false);
    if (fresh.length === 0) {
      setStatus(els.liveStatus, `Live: no new events (checked ${at}).`);
      return;
    }
    shown = [...fresh, ...shown]
      .sort((a, b) => (Date.parse(b.row.published) || 0) - (Date.parse(a.row.published) || 0))
      .slice(0, MAX_LIVE_ROWS);
    drawRows(new Set(fresh.map((s) => s.row.uuid)));
    setStatus(els.listStatus, '');
    updatePager();
    setStatus(
      els.liveStatus,
      `Live: ${fresh.length} new event${fresh.length === 1 ? '' : 's'} at ${at}.`,
    );
    if (Date.now() - chartLoadedAt >= LIVE_CHART_EVERY_MS) void loadChart();
  } catch (error) {
    handleError(error, els.liveStatus);
  } finally {
    polling = false;
  }
}

// ---- export --------------------------------------------------------------------------------

async function startExport(format: ExportFormat): Promise<void> {
  exportController?.abort();
  const controller = new AbortController();
  exportController = controller;
  els.exportCsv.disabled = els.exportJsonl.disabled = true;
  show(els.exportCancel, true);
  setStatus(els.exportStatus, 'Exporting…');
  try {
    const { blob, count } = await exportEvents(
      format,
      apiParams(filtersOf(view), Date.now()),
      (n) => setStatus(els.exportStatus, `Exporting… ${number.format(n)} events`),
      controller.signal,
    );
    download(blob, exportFileName(format));
    setStatus(
      els.exportStatus,
      `Exported ${number.format(count)} event${count === 1 ? '' : 's'} as ${format === 'csv' ? 'CSV' : 'JSON lines'}.`,
    );
  } catch (error) {
    if ((error as Error).name === 'AbortError') setStatus(els.exportStatus, 'Export cancelled.');
    else handleError(error, els.exportStatus);
  } finally {
    if (exportController === controller) {
      els.exportCsv.disabled = els.exportJsonl.disabled = false;
      show(els.exportCancel, false);
    }
  }
}

// ---- wiring --------------------------------------------------------------------------------

function wire(): void {
  const custom = els.range.querySelector('option[value="custom"]');
  for (const [value, { label }] of Object.entries(RANGES)) {
    els.range.insertBefore(h('option', { value }, label), custom);
  }
  els.table.tHead!.append(headerRow());
  els.signInForm.addEventListener('submit', (e) => void onSignIn(e));
  els.signOut.addEventListener('click', () => void onSignOut());
  els.filters.addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters(filtersFromForm());
  });
  els.type.addEventListener('change', () => applyFilters(filtersFromForm()));
  els.range.addEventListener('change', () => {
    if (els.range.value === 'custom') {
      showCustomRange(true);
      els.since.focus();
    } else {
      applyFilters(filtersFromForm());
    }
  });
  els.clear.addEventListener('click', () => go({ live: view.live, limit: view.limit }));
  els.table.tBodies[0]!.addEventListener('click', onTableClick);
  els.newest.addEventListener('click', () => go({ ...view, cursor: undefined, at: undefined }));
  els.back.addEventListener('click', previousPage);
  els.next.addEventListener('click', nextPage);
  els.live.addEventListener('change', onLiveToggle);
  els.exportCsv.addEventListener('click', () => void startExport('csv'));
  els.exportJsonl.addEventListener('click', () => void startExport('jsonl'));
  els.exportCancel.addEventListener('click', () => exportController?.abort());
  els.detailClose.addEventListener('click', closeEvent);
  els.detailCopy.addEventListener('click', () => void copyJson());
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (view.view === 'deliveries') deliveries.closeOnEscape();
    else if (view.event && !els.detail.hidden) closeEvent();
  });
  document.addEventListener('click', onNavClick);
  deliveries.wire();
  window.addEventListener('popstate', () => {
    view = parseView(location.search);
    back = (history.state as { back?: string[] } | null)?.back ?? [];
    render();
  });
  let resizeFrame = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(drawChart);
  }).observe(els.chart);
}

async function boot(): Promise<void> {
  wire();
  try {
    const session = await api.getSession();
    signIns = session;
    if (session.signedIn) startBrowser(session);
    else showSignIn();
  } catch (error) {
    showFatal(error instanceof Error ? error.message : String(error));
  }
}

void boot();
