/**
 * Live mode: while the events view shows page 1 of a time range that reaches now, polls for
 * new events and adds them on top of the list.
 */
import * as api from './api';
import { byId } from './dom';
import { chartCountedAt, loadChart } from './event-chart';
import { eventRow } from './event-fields';
import { type Shown, currentListGeneration, showLiveRows, shownEvents } from './event-list';
import { go, nav } from './navigation';
import { handleError, setStatus } from './page-status';
import { localTime } from './time-format';
import { apiParams, filtersOf, isOpenEnded } from './view-state';

const LIVE_INTERVAL_MS = 5000;
/** Live polls re-read this far behind the newest event shown: deliveries arrive out of order. */
const LIVE_OVERLAP_MS = 60_000;
const LIVE_PAGE = 100;
const MAX_LIVE_ROWS = 500;
/** Live mode recounts the chart at most this often: a count reads the whole range's keys. */
const LIVE_CHART_EVERY_MS = 60_000;

const els = {
  live: byId<HTMLInputElement>('live'),
  liveStatus: byId('live-status'),
};

let liveTimer: number | undefined;
let polling = false;

function liveAllowed(): boolean {
  return nav.view.delivery === undefined && isOpenEnded(filtersOf(nav.view), Date.now());
}

export function syncLive(): void {
  const { view } = nav;
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

export function stopLive(): void {
  if (liveTimer !== undefined) window.clearInterval(liveTimer);
  liveTimer = undefined;
  els.liveStatus.textContent = '';
}

function onLiveToggle(): void {
  const { view, back } = nav;
  // Live shows the newest events: it always starts from page 1.
  if (els.live.checked)
    go({ ...view, live: true, cursor: undefined, at: undefined }, { replace: true });
  else go({ ...view, live: false }, { replace: true, back });
}

async function poll(): Promise<void> {
  if (polling) return;
  polling = true;
  const generation = currentListGeneration();
  try {
    const shown = shownEvents();
    const params = apiParams(filtersOf(nav.view), Date.now());
    const newest = Math.max(0, ...shown.map((s) => Date.parse(s.row.published) || 0));
    if (newest > 0) {
      const floor = Date.parse(params.get('since') ?? '') || 0;
      params.set('since', new Date(Math.max(newest - LIVE_OVERLAP_MS, floor)).toISOString());
    }
    params.set('limit', String(LIVE_PAGE));
    const page = await api.listEvents(params);
    if (generation !== currentListGeneration() || !nav.view.live) return;
    const known = new Set(shownEvents().map((s) => s.row.uuid));
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
    showLiveRows(fresh, MAX_LIVE_ROWS);
    setStatus(
      els.liveStatus,
      `Live: ${fresh.length} new event${fresh.length === 1 ? '' : 's'} at ${at}.`,
    );
    if (Date.now() - chartCountedAt() >= LIVE_CHART_EVERY_MS) void loadChart();
  } catch (error) {
    handleError(error, els.liveStatus);
  } finally {
    polling = false;
  }
}

export function wireLive(): void {
  els.live.addEventListener('change', onLiveToggle);
}
