/**
 * The events table: one row per event, newest first. Values that are filters (event type,
 * actor, User targets) are buttons carrying data-filter/data-value; the time opens the detail
 * panel. The page handles clicks on the table body in one place (main.ts).
 */
import { h } from './dom';
import { type EventRow, type Party, sourceLabel } from './event-fields';
import { localTime } from './time-format';

const COLUMNS = ['Time', 'Event type', 'Actor', 'Target(s)', 'Outcome', 'Severity', 'Source'];

export function headerRow(): HTMLTableRowElement {
  return h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)));
}

function filterButton(filter: 'type' | 'user', value: string, label: string, title: string) {
  return h(
    'button',
    { type: 'button', class: 'value', 'data-filter': filter, 'data-value': value, title },
    label,
  );
}

function partyView(party: Party): Node {
  const title = [party.displayName, party.alternateId, party.id, party.type]
    .filter(Boolean)
    .join(' · ');
  return party.userKey
    ? filterButton('user', party.userKey, party.label, `Show events about ${party.userKey}`)
    : h('span', { class: 'plain', title }, party.label);
}

function cell(label: string, ...children: (Node | string | undefined)[]) {
  return h('td', { 'data-label': label }, ...children);
}

export function eventRowView(row: EventRow, isNew = false): HTMLTableRowElement {
  const outcome = row.outcome ?? '';
  return h(
    'tr',
    { 'data-uuid': row.uuid, class: isNew ? 'is-new' : undefined },
    cell(
      'Time',
      h(
        'button',
        {
          type: 'button',
          class: 'open',
          'data-action': 'open',
          title: `${row.published} · open event ${row.uuid}`,
        },
        localTime(row.published),
      ),
    ),
    cell(
      'Event type',
      filterButton('type', row.eventType, row.eventType, `Show only ${row.eventType} events`),
      row.displayMessage ? h('div', { class: 'message' }, row.displayMessage) : undefined,
    ),
    cell('Actor', row.actor ? partyView(row.actor) : h('span', { class: 'none' }, '—')),
    cell(
      'Target(s)',
      row.targets.length === 0
        ? h('span', { class: 'none' }, '—')
        : h('ul', { class: 'targets' }, ...row.targets.map((t) => h('li', {}, partyView(t)))),
    ),
    cell(
      'Outcome',
      h(
        'span',
        { class: `outcome outcome-${outcome.toLowerCase()}`, title: row.outcomeReason },
        outcome || '—',
      ),
    ),
    cell(
      'Severity',
      h(
        'span',
        { class: `severity severity-${(row.severity ?? '').toLowerCase()}` },
        row.severity ?? '—',
      ),
    ),
    cell('Source', sourceLabel(row.source)),
  );
}
