/**
 * The detail panel: a summary of one event and its JSON exactly as stored, pretty-printed and
 * highlighted token by token (json-tokens.ts), copyable as shown. The deliveries that carried
 * it are filled in by the page once the read API answers (delivery-detail.ts renderCarriers).
 *
 * #detail-reactions (reactions' outcomes, issue 12) stays hidden until the read API has a route
 * for one event's outcomes.
 */
import { deliveryLink } from './delivery-detail';
import { byId, h } from './dom';
import { type EventMeta, eventRow, sourceLabel } from './event-fields';
import { entry, renderJson } from './panel';
import { localTime } from './time-format';

/** Fills the panel for one event; returns the pretty JSON (what "Copy" copies). */
export function renderDetail(text: string, meta: EventMeta | undefined): string {
  const row = eventRow(JSON.parse(text), meta);
  byId('detail-title').textContent = row.eventType || 'Event';
  const summary = byId('detail-summary');
  summary.replaceChildren(
    ...entry('uuid', h('code', {}, row.uuid)),
    ...entry(
      'Published',
      localTime(row.published),
      h('span', { class: 'iso' }, ` (${row.published})`),
    ),
    ...entry('Message', row.displayMessage),
    ...entry(
      'Actor',
      row.actor && [row.actor.displayName, row.actor.alternateId].filter(Boolean).join(' · '),
    ),
    ...entry(
      'Target(s)',
      row.targets.map((t) => `${t.type ? `${t.type}: ` : ''}${t.label}`).join(', ') || undefined,
    ),
    ...entry('Outcome', [row.outcome, row.outcomeReason].filter(Boolean).join(' · ') || undefined),
    ...entry('Severity', row.severity),
    ...entry('Source', sourceLabel(row.source)),
    ...(meta?.receivedAt ? entry('Received', localTime(meta.receivedAt)) : []),
    ...(meta?.deliveryId ? entry('Delivery', deliveryLink(meta.deliveryId)) : []),
  );
  byId('detail-reactions').hidden = true;
  return renderJson(byId('detail-json'), text);
}
