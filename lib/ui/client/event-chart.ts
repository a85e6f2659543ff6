/** The events view's count chart: loaded for the filters shown; a drag across it sets a range. */
import * as api from './api';
import { chartSummary, renderChart } from './chart';
import { byId } from './dom';
import { applyFilters } from './event-filters';
import { nav } from './navigation';
import { handleError, loaded, setStatus } from './page-status';
import { type Filters, apiParams, filtersOf, sameFilters } from './view-state';

const els = {
  chart: byId('chart'),
  chartSummary: byId('chart-summary'),
};

let chartGeneration = 0;
let chartFilters: Filters | undefined;
let chartLoadedAt = 0;
let lastCounts: api.EventCounts | undefined;

/** Counts again when the filters shown are not the ones counted. */
export function syncChart(): void {
  if (!chartFilters || !sameFilters(chartFilters, filtersOf(nav.view))) void loadChart();
}

/** Forgets the counts, so the next sync counts again. */
export function resetChart(): void {
  chartFilters = undefined;
}

/** When the chart was last counted (Date.now()). */
export function chartCountedAt(): number {
  return chartLoadedAt;
}

export async function loadChart(): Promise<void> {
  const { view } = nav;
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
    applyFilters({ ...filtersOf(nav.view), range: undefined, since, until }),
  );
}

/** Redraws the chart to its new width, once per frame at most. */
export function wireChart(): void {
  let resizeFrame = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(drawChart);
  }).observe(els.chart);
}
