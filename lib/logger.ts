/**
 * One log line per request. JSON for CloudWatch; a short readable line for `npm start`.
 * Callers pass only the fields below: headers and bodies are never logged, so neither is a secret.
 */

export interface RequestLog {
  level: 'info' | 'warn' | 'error';
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  caller?: string;
  deliveryId?: string;
  eventTypes?: string[];
  events?: number;
  /** Deliveries: `new`, or `again (attempt n)` for a repeat of one already received. */
  received?: string;
  /** Error code and message of a refusal or failure: our own words, never the caller's input. */
  error?: string;
  reason?: string;
}

export type LogFormat = 'json' | 'pretty';

export function formatRequestLog(entry: RequestLog, format: LogFormat): string {
  if (format === 'json') return JSON.stringify({ msg: 'request', ...entry });
  const parts = [
    new Date().toISOString().slice(11, 19),
    entry.method,
    entry.path,
    String(entry.status),
  ];
  if (entry.eventTypes && entry.eventTypes.length > 0) {
    const shown = entry.eventTypes.slice(0, 3).join(',');
    parts.push(entry.eventTypes.length > 3 ? `${shown},+${entry.eventTypes.length - 3}` : shown);
  }
  if (entry.events !== undefined && entry.deliveryId !== undefined)
    parts.push(
      `${entry.events} event${entry.events === 1 ? '' : 's'} received ${entry.received ?? ''}`.trim(),
    );
  if (entry.error) parts.push(`${entry.error}: ${entry.reason ?? ''}`.trim());
  parts.push(`${entry.ms}ms`);
  return parts.join(' ');
}

export function logRequest(entry: RequestLog, format: LogFormat): void {
  const line = formatRequestLog(entry, format);
  if (entry.level === 'info') console.log(line);
  else console.error(line);
}

/** One line per delivery the store function wrote the events of (or found it could not). */
export interface StoreLog {
  level: 'info' | 'warn' | 'error';
  deliveryId: string;
  status: string;
  events: number;
  stored?: number;
  duplicates?: number;
  /** Time spent storing, and since the delivery was first received. */
  ms: number;
  lagMs?: number;
  eventTypes?: string[];
  reason?: string;
}

export function formatStoreLog(entry: StoreLog, format: LogFormat): string {
  if (format === 'json') return JSON.stringify({ msg: 'store', ...entry });
  const parts = [new Date().toISOString().slice(11, 19), 'STORE', entry.deliveryId.slice(0, 36)];
  if (entry.eventTypes && entry.eventTypes.length > 0) {
    const shown = entry.eventTypes.slice(0, 3).join(',');
    parts.push(entry.eventTypes.length > 3 ? `${shown},+${entry.eventTypes.length - 3}` : shown);
  }
  if (entry.status !== 'stored') parts.push(entry.status);
  if (entry.stored !== undefined)
    parts.push(`stored=${entry.stored} duplicates=${entry.duplicates ?? 0}`);
  if (entry.reason) parts.push(entry.reason);
  parts.push(`${entry.ms}ms`);
  if (entry.lagMs !== undefined) parts.push(`(${entry.lagMs}ms after receipt)`);
  return parts.join(' ');
}

export function logStore(entry: StoreLog, format: LogFormat): void {
  const line = formatStoreLog(entry, format);
  if (entry.level === 'info') console.log(line);
  else console.error(line);
}

/** The one line a reconcile pass logs (lib/reconcile/): counts and our own words, no secret. */
export interface ReconcileLog {
  level: 'info' | 'warn' | 'error';
  org: string;
  status: string;
  from?: string;
  eventTypes?: string[] | '*';
  pages?: number;
  read?: number;
  recovered?: number;
  alreadyStored?: number;
  notStored?: number;
  hookDeliveryFailures?: number;
  requests?: number;
  tokenRequests?: number;
  rateLimited?: number;
  rateLimitWaitMs?: number;
  lagSeconds?: number;
  newestPublished?: string;
  ms?: number;
  reason?: string;
}

export function formatReconcileLog(entry: ReconcileLog, format: LogFormat): string {
  if (format === 'json') return JSON.stringify({ msg: 'reconcile', ...entry });
  const parts = [
    new Date().toISOString().slice(11, 19),
    'reconcile',
    entry.org,
    entry.status.replace('-', ' '),
  ];
  if (entry.read !== undefined) {
    parts.push(
      `read=${entry.read} recovered=${entry.recovered ?? 0} already=${entry.alreadyStored ?? 0}` +
        (entry.notStored ? ` notStored=${entry.notStored}` : '') +
        (entry.hookDeliveryFailures ? ` hookDeliveryFailures=${entry.hookDeliveryFailures}` : ''),
    );
    parts.push(
      `requests=${entry.requests ?? 0}` +
        (entry.tokenRequests ? `+${entry.tokenRequests} token` : '') +
        (entry.rateLimited ? ` rateLimited=${entry.rateLimited}` : ''),
    );
  }
  if (entry.lagSeconds !== undefined) parts.push(`lag=${entry.lagSeconds}s`);
  if (entry.reason) parts.push(entry.reason);
  if (entry.ms !== undefined) parts.push(`${entry.ms}ms`);
  return parts.join(' ');
}

export function logReconcile(entry: ReconcileLog, format: LogFormat): void {
  const line = formatReconcileLog(entry, format);
  if (entry.level === 'info') console.log(line);
  else console.error(line);
}
