/**
 * The events view's list: one page of events (or the events one delivery carried), cursor
 * paging, click-to-filter and opening an event. Live mode (live-mode.ts) adds rows on top.
 */
import * as api from './api';
import { byId, number, pageInfo } from './dom';
import { type EventMeta, type EventRow, eventRow } from './event-fields';
import { applyFilters } from './event-filters';
import { eventRowView, headerRow } from './events-table';
import { go, nav } from './navigation';
import { handleError, loaded, setStatus } from './page-status';
import { DEFAULT_LIMIT, apiParams, filtersOf, viewToSearch } from './view-state';

export interface Shown {
  row: EventRow;
  meta: EventMeta;
}

const els = {
  listStatus: byId('list-status'),
  table: byId<HTMLTableElement>('events'),
  newest: byId<HTMLButtonElement>('page-newest'),
  back: byId<HTMLButtonElement>('page-back'),
  next: byId<HTMLButtonElement>('page-next'),
  pageInfo: byId('page-info'),
};

let shown: Shown[] = [];
let nextCursor: string | null = null;
/** The moment the current page resolved its quick range from (see ViewState.at). */
let pageNow = Date.now();
let listGeneration = 0;
/** The query of the list shown: opening an event or toggling live mode does not reload it. */
let listKey: string | undefined;

/** The events shown, newest first. */
export function shownEvents(): readonly Shown[] {
  return shown;
}

/** Counts the lists loaded: a live poll answered after a new list started is dropped. */
export function currentListGeneration(): number {
  return listGeneration;
}

/** Loads the list when the view asks for another one than the one shown. */
export function syncList(): void {
  const { cursor, at, limit, delivery } = nav.view;
  const key = viewToSearch({ ...filtersOf(nav.view), delivery, cursor, at, limit, live: false });
  if (key !== listKey) {
    listKey = key;
    void loadList();
  }
}

/** Forgets the list shown, so the next sync loads it again. */
export function resetList(): void {
  listKey = undefined;
}

export function clearList(): void {
  shown = [];
  els.table.tBodies[0]!.replaceChildren();
}

function drawRows(fresh: Set<string>): void {
  els.table.tBodies[0]!.replaceChildren(
    ...shown.map(({ row }) => eventRowView(row, fresh.has(row.uuid))),
  );
  markSelectedRow();
}

/** The row of the event open in the detail panel. */
export function markSelectedRow(): void {
  for (const row of els.table.tBodies[0]!.rows) {
    const selected = row.dataset.uuid === nav.view.event;
    row.classList.toggle('is-selected', selected);
    if (selected) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');
  }
}

/** The open button of an event's row, to give the focus back to. */
export function openerOf(uuid: string): HTMLElement | null {
  return els.table.querySelector<HTMLElement>(
    `tr[data-uuid="${CSS.escape(uuid)}"] [data-action="open"]`,
  );
}

async function loadList(): Promise<void> {
  const { view } = nav;
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

/** Live mode's new events: on top, newest first, at most `max` rows in all. */
export function showLiveRows(fresh: Shown[], max: number): void {
  shown = [...fresh, ...shown]
    .sort((a, b) => (Date.parse(b.row.published) || 0) - (Date.parse(a.row.published) || 0))
    .slice(0, max);
  drawRows(new Set(fresh.map((s) => s.row.uuid)));
  setStatus(els.listStatus, '');
  updatePager();
}

function updatePager(): void {
  const { view, back } = nav;
  els.newest.disabled = !view.cursor;
  els.back.disabled = !view.cursor;
  els.next.disabled = !nextCursor;
  els.pageInfo.textContent = pageInfo(view.cursor, back.length, shown.length, ['event', 'events']);
}

function nextPage(): void {
  const { view, back } = nav;
  if (!nextCursor) return;
  // A quick range is pinned to the moment page 1 was read, so the cursor's query stays the same.
  const at = view.range ? (view.at ?? new Date(pageNow).toISOString()) : undefined;
  go({ ...view, cursor: nextCursor, at, live: false }, { back: [...back, view.cursor ?? ''] });
}

function previousPage(): void {
  const { view, back } = nav;
  const previous = back.at(-1) ?? '';
  go(
    { ...view, cursor: previous || undefined, at: previous ? view.at : undefined },
    { back: back.slice(0, -1) },
  );
}

function openEvent(uuid: string): void {
  go({ ...nav.view, event: uuid }, { replace: true, back: nav.back });
}

function onTableClick(event: MouseEvent): void {
  const target = event.target as Element;
  const filter = target.closest<HTMLElement>('[data-filter]');
  if (filter) {
    const value = filter.dataset.value ?? '';
    const filters = filtersOf(nav.view);
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

export function wireList(): void {
  els.table.tHead!.append(headerRow());
  els.table.tBodies[0]!.addEventListener('click', onTableClick);
  els.newest.addEventListener('click', () => go({ ...nav.view, cursor: undefined, at: undefined }));
  els.back.addEventListener('click', previousPage);
  els.next.addEventListener('click', nextPage);
}
