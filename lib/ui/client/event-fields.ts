/**
 * What the events table and the CSV export show of one event. Okta's objects are nullable
 * (Preview deliveries send actor and target null), so everything is optional. Pure: no DOM.
 */

import type { EventMeta } from '../../store/read-records';

export type { EventMeta };

export interface Party {
  id?: string;
  type?: string;
  alternateId?: string;
  displayName?: string;
  /** What to show. */
  label: string;
  /** The value the user filter matches (login, else id): set for actors and User targets only. */
  userKey?: string;
}

export interface EventRow {
  uuid: string;
  published: string;
  eventType: string;
  displayMessage?: string;
  actor?: Party;
  targets: Party[];
  outcome?: string;
  outcomeReason?: string;
  severity?: string;
  /** `hook`, `systemLog`, …: the item's origin, `hook` when it has none. */
  source: string;
  clientIp?: string;
}

export const SOURCE_LABELS: Record<string, string> = { hook: 'Hook', systemLog: 'System Log' };

type Json = Record<string, unknown>;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function party(value: unknown, filterable: (p: Json) => boolean): Party | undefined {
  const p = obj(value);
  if (!p) return undefined;
  const result: Party = {
    id: str(p.id),
    type: str(p.type),
    alternateId: str(p.alternateId),
    displayName: str(p.displayName),
    // Okta writes alternateId "unknown" for groups and apps: their name says more.
    label:
      (p.alternateId === 'unknown' ? undefined : str(p.alternateId)) ??
      str(p.displayName) ??
      str(p.id) ??
      '?',
  };
  if (filterable(p)) result.userKey = result.alternateId ?? result.id;
  return result;
}

export function eventRow(event: unknown, meta?: EventMeta): EventRow {
  const e = obj(event) ?? {};
  const outcome = obj(e.outcome);
  return {
    uuid: str(e.uuid) ?? meta?.uuid ?? '',
    published: str(e.published) ?? '',
    eventType: str(e.eventType) ?? '',
    displayMessage: str(e.displayMessage),
    // The user filter matches any actor, and targets of type User (lib/store/event-items.ts).
    actor: party(e.actor, () => true),
    targets: (Array.isArray(e.target) ? e.target : [])
      .map((t) => party(t, (p) => p.type === 'User'))
      .filter((t): t is Party => t !== undefined),
    outcome: str(outcome?.result),
    outcomeReason: str(outcome?.reason),
    severity: str(e.severity),
    source: meta?.origin ?? 'hook',
    clientIp: str(obj(e.client)?.ipAddress),
  };
}

export function sourceLabel(source: string): string {
  return SOURCE_LABELS[source] ?? source;
}

export const CSV_HEADER = [
  'published',
  'uuid',
  'eventType',
  'displayMessage',
  'actorId',
  'actorAlternateId',
  'actorDisplayName',
  'targets',
  'outcome',
  'outcomeReason',
  'severity',
  'source',
  'clientIp',
];

/**
 * One CSV field (RFC 4180). A text that a spreadsheet would run as a formula gets a leading
 * apostrophe (OWASP's advice for CSV injection): event fields come from whoever made the event.
 */
export function csvField(value: string | undefined): string {
  let v = value ?? '';
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function csvLine(values: (string | undefined)[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export function csvRecord(row: EventRow): string {
  return csvLine([
    row.published,
    row.uuid,
    row.eventType,
    row.displayMessage,
    row.actor?.id,
    row.actor?.alternateId,
    row.actor?.displayName,
    row.targets.map((t) => (t.type ? `${t.type}:${t.label}` : t.label)).join('; '),
    row.outcome,
    row.outcomeReason,
    row.severity,
    row.source,
    row.clientIp,
  ]);
}
