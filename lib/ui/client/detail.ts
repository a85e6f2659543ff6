/**
 * The detail panel: a summary of one event and its JSON exactly as stored, pretty-printed and
 * highlighted token by token (json-tokens.ts), copyable as shown.
 *
 * Phase 2 (issues 9-11, deliveries as stored raw requests; reactions) fills the two sections
 * the page already has: #detail-deliveries (the deliveries that carried this event, each with
 * its kept headers, status, attempts and timing) and #detail-reactions (their outcomes). They
 * stay hidden until then; renderDetail is where they will be filled.
 */
import { byId, h } from './dom';
import { type EventMeta, eventRow, sourceLabel } from './event-fields';
import { prettyTokens } from './json-tokens';
import { localTime } from './time-format';

export function renderJson(target: HTMLElement, text: string): string {
  const fragment = document.createDocumentFragment();
  let pretty = '';
  for (const token of prettyTokens(text)) {
    pretty += token.text;
    if (token.kind === 'space' || token.kind === 'punctuation') {
      fragment.append(token.text);
    } else {
      fragment.append(h('span', { class: `j-${token.kind}` }, token.text));
    }
  }
  target.replaceChildren(fragment);
  return pretty;
}

function entry(term: string, ...description: (Node | string | undefined)[]): Node[] {
  return [h('dt', {}, term), h('dd', {}, ...(description.length ? description : ['—']))];
}

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
    ...(meta?.deliveryId ? entry('Delivery', h('code', {}, meta.deliveryId)) : []),
  );
  // Phase 2: deliveries that carried this event, and reactions (see the comment above).
  byId('detail-deliveries').hidden = true;
  byId('detail-reactions').hidden = true;
  return renderJson(byId('detail-json'), text);
}
