/**
 * The deliveries table: one row per delivery (one POST from Okta or Hookdeck), newest first by
 * first receipt. The time opens the delivery in the detail panel (deliveries-view.ts handles
 * the click).
 */
import type { DeliveryRecord } from './api';
import {
  CALLER_LABELS,
  STATUS_TITLES,
  durationText,
  timeToStoreMs,
  typesText,
} from './delivery-fields';
import { h, number } from './dom';
import { localTime } from './time-format';

const COLUMNS = [
  'Received',
  'Status',
  'Events',
  'Event types',
  'Attempts',
  'Stored / duplicates',
  'Time to store',
  'From',
];

export function deliveryHeaderRow(): HTMLTableRowElement {
  return h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)));
}

export function statusBadge(status: string, reason?: string): HTMLElement {
  return h(
    'span',
    { class: `badge status-${status}`, title: reason ?? STATUS_TITLES[status] },
    status,
  );
}

function cell(label: string, ...children: (Node | string | undefined)[]) {
  return h('td', { 'data-label': label }, ...children);
}

const none = () => h('span', { class: 'none' }, '—');

export function deliveryRowView(record: DeliveryRecord): HTMLTableRowElement {
  const toStore = timeToStoreMs(record);
  const stored =
    record.storedCount === undefined
      ? none()
      : `${number.format(record.storedCount)} / ${number.format(record.duplicateCount ?? 0)}`;
  return h(
    'tr',
    { 'data-delivery': record.deliveryId },
    cell(
      'Received',
      h(
        'button',
        {
          type: 'button',
          class: 'open',
          'data-action': 'open',
          title: `${record.firstReceivedAt} · open delivery ${record.deliveryId}`,
        },
        localTime(record.firstReceivedAt),
      ),
    ),
    cell('Status', statusBadge(record.status, record.rejectReason)),
    cell('Events', number.format(record.eventCount)),
    cell(
      'Event types',
      h(
        'span',
        { class: 'types', title: record.eventTypes.join('\n') },
        typesText(record.eventTypes),
      ),
    ),
    cell(
      'Attempts',
      h(
        'span',
        {
          class: record.attempts > 1 ? 'attempts retried' : 'attempts',
          title:
            record.attempts > 1 ? `last received ${localTime(record.lastReceivedAt)}` : undefined,
        },
        number.format(record.attempts),
      ),
    ),
    cell('Stored / duplicates', stored),
    cell(
      'Time to store',
      toStore === undefined
        ? none()
        : h(
            'span',
            {
              title:
                record.storeMs === undefined
                  ? undefined
                  : `the store function worked ${durationText(record.storeMs)}`,
            },
            durationText(toStore),
          ),
    ),
    cell(
      'From',
      [CALLER_LABELS[record.caller ?? ''] ?? record.caller, record.sourceIp]
        .filter(Boolean)
        .join(' · ') || none(),
    ),
  );
}
