/**
 * The count-over-time bar chart: hand-made SVG from the read API's /event-counts. Each bar is
 * a bucket; clicking one (or Enter on it: arrow keys move between bars) narrows the time
 * range to it.
 */
import type { EventCounts } from './api';
import { h, number, svg } from './dom';
import { durationLabel, localTime } from './time-format';

const HEIGHT = 150;
const MARGIN = { top: 10, right: 8, bottom: 22, left: 44 };

type Bucket = EventCounts['buckets'][number];

function bucketTitle(bucket: Bucket): string {
  const what =
    bucket.count === null
      ? 'not counted (time ran out)'
      : `${number.format(bucket.count)} event${bucket.count === 1 ? '' : 's'}`;
  return `${localTime(bucket.start, false)} – ${localTime(bucket.end, false)}: ${what}`;
}

export function renderChart(
  container: HTMLElement,
  counts: EventCounts,
  onSelect: (since: string, until: string) => void,
): void {
  container.replaceChildren();
  const buckets = counts.buckets;
  if (buckets.length === 0 || counts.since === null || counts.until === null) {
    container.append(h('p', { class: 'chart-empty' }, 'No events in this range.'));
    return;
  }
  const width = Math.max(container.clientWidth, 280);
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const t0 = Date.parse(counts.since);
  const t1 = Date.parse(counts.until);
  const x = (iso: string) => MARGIN.left + ((Date.parse(iso) - t0) / (t1 - t0)) * plotWidth;
  const max = Math.max(1, ...buckets.map((b) => b.count ?? 0));
  const y = (n: number) => MARGIN.top + plotHeight - (n / max) * plotHeight;

  const chart = svg('svg', {
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: 'group',
    'aria-label': `Events per ${durationLabel(counts.bucketSeconds)}; select a bar to narrow the range to it`,
  });
  const baseline = MARGIN.top + plotHeight;
  chart.append(
    svg('line', {
      class: 'axis',
      x1: MARGIN.left,
      x2: width - MARGIN.right,
      y1: baseline,
      y2: baseline,
    }),
    svg('line', {
      class: 'grid',
      x1: MARGIN.left,
      x2: width - MARGIN.right,
      y1: MARGIN.top,
      y2: MARGIN.top,
    }),
    svg(
      'text',
      { class: 'label', x: MARGIN.left - 6, y: MARGIN.top + 4, 'text-anchor': 'end' },
      number.format(max),
    ),
    svg('text', { class: 'label', x: MARGIN.left - 6, y: baseline, 'text-anchor': 'end' }, '0'),
    svg('text', { class: 'label', x: MARGIN.left, y: HEIGHT - 4 }, localTime(counts.since, false)),
    svg(
      'text',
      { class: 'label', x: width - MARGIN.right, y: HEIGHT - 4, 'text-anchor': 'end' },
      localTime(counts.until, false),
    ),
  );

  const bars: SVGGElement[] = [];
  for (const bucket of buckets) {
    const left = x(bucket.start);
    const barWidth = Math.max(1, x(bucket.end) - left - (plotWidth / buckets.length > 4 ? 1 : 0));
    const top = bucket.count === null ? MARGIN.top : y(bucket.count);
    const bar = svg(
      'g',
      {
        class: bucket.count === null ? 'bar unknown' : 'bar',
        tabindex: bars.length === 0 ? 0 : -1,
        role: 'button',
        'aria-label': bucketTitle(bucket),
        'data-start': bucket.start,
        'data-end': bucket.end,
      },
      svg('title', {}, bucketTitle(bucket)),
      // A full-height target, so that short bars are as easy to hit as tall ones.
      svg('rect', { class: 'hit', x: left, y: MARGIN.top, width: barWidth, height: plotHeight }),
      svg('rect', { class: 'fill', x: left, y: top, width: barWidth, height: baseline - top }),
    );
    bar.addEventListener('click', () => onSelect(bucket.start, bucket.end));
    bars.push(bar);
  }
  chart.append(...bars);
  chart.addEventListener('keydown', (event) => {
    const index = bars.indexOf(event.target as SVGGElement);
    if (index < 0) return;
    let next = index;
    if (event.key === 'ArrowRight') next = Math.min(bars.length - 1, index + 1);
    else if (event.key === 'ArrowLeft') next = Math.max(0, index - 1);
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = bars.length - 1;
    else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      const bucket = buckets[index]!;
      onSelect(bucket.start, bucket.end);
      return;
    } else return;
    event.preventDefault();
    bars[index]!.setAttribute('tabindex', '-1');
    bars[next]!.setAttribute('tabindex', '0');
    bars[next]!.focus();
  });
  container.append(chart);
}

export function chartSummary(counts: EventCounts): string {
  if (counts.buckets.length === 0) return 'No events match.';
  const total = `${number.format(counts.total)} event${counts.total === 1 ? '' : 's'}`;
  const per = `per ${durationLabel(counts.bucketSeconds)}`;
  const cost = `counted with ${number.format(Math.round(counts.readUnits * 10) / 10)} read units`;
  const partial = counts.complete ? '' : ' · some bars were not counted in time: narrow the range';
  return `${total}, ${per} · ${cost}${partial}`;
}
