/**
 * The detail panel: a summary of one event and its JSON exactly as stored, pretty-printed and
 * highlighted token by token (json-tokens.ts), copyable as shown. The deliveries that carried
 * it (delivery-detail.ts renderCarriers) and what its reactions did (renderReactions, from
 * GET /events/{uuid}/reactions) are filled in by the page once the read API answers.
 */
import type { ReactionOutcome } from './api';
import { deliveryLink } from './delivery-detail';
import { byId, h, number } from './dom';
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
  return renderJson(byId('detail-json'), text);
}

const REACTION_TITLES: Record<ReactionOutcome['status'], string> = {
  succeeded: 'It ran to the end; it will not run again on this event',
  failed: 'Its last try failed: the stream retries it, or redrive-reactions runs it again',
  running: 'A run holds it (or died holding it, until its lease runs out)',
};

/** When the outcome last changed, in the words of its status. */
function reactionWhen(outcome: ReactionOutcome): string {
  const at = (iso: string | undefined) => (iso ? localTime(iso) : '—');
  if (outcome.status === 'succeeded')
    return `succeeded ${at(outcome.succeededAt ?? outcome.updatedAt)}`;
  if (outcome.status === 'failed') return `last tried ${at(outcome.updatedAt)}`;
  return `started ${at(outcome.updatedAt)}${outcome.leaseUntil ? `, lease until ${at(outcome.leaseUntil)}` : ''}`;
}

function reactionView(outcome: ReactionOutcome): HTMLLIElement {
  return h(
    'li',
    { class: 'carrier', 'data-reaction': outcome.reaction },
    h(
      'div',
      { class: 'carrier-head' },
      h('code', {}, outcome.reaction),
      h(
        'span',
        { class: `badge status-${outcome.status}`, title: REACTION_TITLES[outcome.status] },
        outcome.status,
      ),
    ),
    h(
      'dl',
      { class: 'summary' },
      ...entry(
        'Attempts',
        number.format(outcome.attempts),
        h('span', { class: 'muted' }, ` · ${reactionWhen(outcome)}`),
      ),
      // Text, never HTML: an error may quote whatever a receiver answered.
      ...(outcome.lastError ? entry('Last error', h('code', {}, outcome.lastError)) : []),
    ),
  );
}

/** Fills the event detail's reactions; the section stays hidden when none ran on the event. */
export function renderReactions(
  section: HTMLElement,
  list: HTMLElement,
  outcomes: readonly ReactionOutcome[],
): void {
  list.replaceChildren(...outcomes.map(reactionView));
  section.hidden = outcomes.length === 0;
}
