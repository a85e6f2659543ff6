/**
 * A delivery as received, in its detail panel (#delivery-detail): its record (status, timing,
 * attempts, counts, who sent it), the headers kept with it, and its body, pretty-printed token
 * for token or exactly as received. Also the event detail's list of the deliveries that
 * carried an event (#detail-deliveries).
 *
 * Links to other views are real links (`<a href="?view=deliveries&delivery=…" data-nav>`), so
 * they can be opened in a new tab; the page turns a plain click into in-page navigation.
 */
import type { DeliveryRecord, EventDeliveries, EventDelivery } from './api';
import { statusBadge } from './deliveries-table';
import { CALLER_LABELS, bytesText, durationText, timeToStoreMs } from './delivery-fields';
import { entry, renderJson } from './panel';
import { byId, h, number } from './dom';
import { localTime } from './time-format';
import { deliveryEventsView, deliveryView, viewToSearch } from './view-state';

/** Bodies larger than this are pretty-printed without highlighting: a span per token is slow. */
const HIGHLIGHT_LIMIT = 1024 * 1024;

/** A link to one delivery in the deliveries view. */
export function deliveryLink(deliveryId: string): HTMLAnchorElement {
  return h(
    'a',
    {
      href: `ui${viewToSearch(deliveryView(deliveryId))}`,
      'data-nav': true,
      title: `Open delivery ${deliveryId}`,
    },
    h('code', {}, deliveryId),
  );
}

/** The kept headers, name and value, in the order they were recorded. */
export function headersTable(headers: Record<string, string>, caption: string): HTMLElement {
  const names = Object.keys(headers);
  if (names.length === 0) return h('p', { class: 'muted' }, 'No headers were kept.');
  return h(
    'table',
    { class: 'headers' },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'tbody',
      {},
      ...names.map((name) =>
        h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, h('code', {}, headers[name]!))),
      ),
    ),
  );
}

function time(iso: string | undefined): (Node | string)[] {
  return iso ? [localTime(iso), h('span', { class: 'iso' }, ` (${iso})`)] : [];
}

/** The timing and status lines shared by the detail panel and the event's deliveries. */
function timing(record: DeliveryRecord): Node[] {
  const toStore = timeToStoreMs(record);
  return [
    ...entry(
      'Status',
      statusBadge(record.status, record.rejectReason),
      record.rejectReason ? ` ${record.rejectReason}` : undefined,
    ),
    ...entry('Received', ...time(record.firstReceivedAt)),
    ...entry(
      'Attempts',
      number.format(record.attempts),
      record.attempts > 1 ? ` (last ${localTime(record.lastReceivedAt)})` : undefined,
    ),
    ...entry(
      'Time to store',
      toStore === undefined ? undefined : durationText(toStore),
      record.storeMs === undefined
        ? undefined
        : h('span', { class: 'muted' }, ` (store function: ${durationText(record.storeMs)})`),
    ),
  ];
}

/** Events whose uuid was stored already with other text: the first text was kept. */
function conflictsText(count: number, uuids: string[]): (Node | string)[] {
  const more = count > uuids.length ? [`, +${number.format(count - uuids.length)}`] : [];
  return [
    `${number.format(count)} with other text than the text stored first, which was kept: `,
    ...uuids.flatMap((uuid, i) => [
      ...(i === 0 ? [] : [', ']),
      h('code', { 'data-conflict': uuid }, uuid),
    ]),
    ...more,
  ];
}

/** Fills the delivery panel's summary and headers; the body is shown by renderDeliveryBody. */
export function renderDeliveryDetail(record: DeliveryRecord): void {
  byId('delivery-title').textContent = `Delivery ${record.deliveryId}`;
  const from = [CALLER_LABELS[record.caller ?? ''] ?? record.caller, record.sourceIp]
    .filter(Boolean)
    .join(' · ');
  byId('delivery-summary').replaceChildren(
    ...entry('Delivery id', h('code', {}, record.deliveryId)),
    ...(record.eventId !== undefined && record.eventId !== record.deliveryId
      ? entry('Envelope eventId', h('code', {}, record.eventId))
      : []),
    ...timing(record),
    ...entry(
      'Events',
      number.format(record.eventCount),
      record.eventTypes.length ? ` · ${record.eventTypes.join(', ')}` : undefined,
    ),
    ...entry(
      'Stored / duplicates',
      record.storedCount === undefined
        ? undefined
        : `${number.format(record.storedCount)} / ${number.format(record.duplicateCount ?? 0)}`,
    ),
    ...(record.conflictCount
      ? entry('Conflicts', ...conflictsText(record.conflictCount, record.conflictUuids ?? []))
      : []),
    ...(record.sameEventIdAs
      ? entry(
          'Same eventId as',
          deliveryLink(record.sameEventIdAs),
          ' (which came first with another body)',
        )
      : []),
    ...(record.otherBodies?.length
      ? entry(
          'Other bodies',
          ...record.otherBodies.flatMap((id, i): (Node | string)[] =>
            i === 0 ? [deliveryLink(id)] : [', ', deliveryLink(id)],
          ),
          ' (the same eventId with another body, each kept and stored on its own)',
        )
      : []),
    ...entry('Stored at', ...time(record.storedAt)),
    ...entry('From', from || undefined),
    ...(record.requestId ? entry('Request id', h('code', {}, record.requestId)) : []),
    ...(record.bodyBytes !== undefined ? entry('Body size', bytesText(record.bodyBytes)) : []),
    ...(record.source ? entry('Envelope source', record.source) : []),
    ...(record.eventTime ? entry('Envelope eventTime', ...time(record.eventTime)) : []),
    ...(record.hookdeckEventId
      ? entry('Hookdeck event', h('code', {}, record.hookdeckEventId))
      : []),
  );
  const events = byId<HTMLAnchorElement>('delivery-events');
  events.href = `ui${viewToSearch(deliveryEventsView(record.deliveryId))}`;
  events.textContent =
    record.eventCount === 1
      ? 'Show its event ›'
      : `Show its ${number.format(record.eventCount)} events ›`;
  events.hidden = record.eventCount === 0;
  byId('delivery-headers').replaceChildren(
    headersTable(record.headers, `Headers of delivery ${record.deliveryId}`),
  );
}

/**
 * Shows the body: pretty (only the whitespace between JSON tokens changes) or exactly as
 * received. A body that is not JSON (a rejected delivery) is always shown as received.
 * Returns the text shown, which is what Copy copies.
 */
export function renderDeliveryBody(target: HTMLElement, body: string, exact: boolean): string {
  let isJson = true;
  try {
    JSON.parse(body);
  } catch {
    isJson = false;
  }
  if (exact || !isJson) {
    target.textContent = body;
    return body;
  }
  return renderJson(target, body, body.length <= HIGHLIGHT_LIMIT);
}

function carrierView(carrier: EventDelivery): HTMLLIElement {
  const record = carrier.record;
  const head = h(
    'div',
    { class: 'carrier-head' },
    deliveryLink(carrier.deliveryId),
    h(
      'span',
      { class: carrier.first ? 'tag first' : 'tag again' },
      carrier.first ? 'stored it' : 'carried it again',
    ),
  );
  if (!record) {
    return h(
      'li',
      { class: 'carrier', 'data-delivery': carrier.deliveryId },
      head,
      h(
        'p',
        { class: 'muted' },
        `Received ${carrier.receivedAt ? localTime(carrier.receivedAt) : '—'}; its record is no longer stored.`,
      ),
    );
  }
  const headers = Object.keys(record.headers).length;
  return h(
    'li',
    { class: 'carrier', 'data-delivery': carrier.deliveryId },
    head,
    h(
      'dl',
      { class: 'summary' },
      ...timing(record),
      ...entry('Events', number.format(record.eventCount)),
    ),
    h(
      'details',
      {},
      h('summary', {}, `Headers as received (${headers})`),
      headersTable(record.headers, `Headers of delivery ${carrier.deliveryId}`),
    ),
  );
}

/** Fills the event detail's "Deliveries that carried it". */
export function renderCarriers(
  list: HTMLElement,
  status: HTMLElement,
  data: EventDeliveries,
): void {
  list.replaceChildren(...data.deliveries.map(carrierView));
  const n = data.deliveries.length;
  const many = `${number.format(n)} deliveries carried it`;
  if (data.origin === 'systemLog') {
    status.textContent =
      n === 0
        ? 'None: it was stored from the System Log, and no hook delivery has carried it since.'
        : `It was stored from the System Log; ${n === 1 ? 'one delivery' : many} carried it since.`;
  } else {
    status.textContent =
      n === 0
        ? 'No delivery is recorded for this event.'
        : n === 1
          ? 'One delivery carried it.'
          : `${many}; it was stored once, from the first.`;
  }
}
