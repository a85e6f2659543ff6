/**
 * One log line per request. JSON for CloudWatch; a short readable line for `npm start`.
 * Callers pass only the fields below: headers and bodies are never logged, so neither is a secret.
 * Text that can hold a caller's input (problems, paths, ids) is sliced; the pretty line escapes
 * control characters, so a logged value can neither start a new line nor drive the terminal.
 */

export interface RequestLog {
  level: 'info' | 'warn' | 'error';
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  /** The caller's address as API Gateway saw it (not a header a caller could set). */
  sourceIp?: string;
  caller?: string;
  /** Who read: the signed-in user's login, or an access token's subject (never a token). */
  user?: string;
  deliveryId?: string;
  eventTypes?: string[];
  events?: number;
  /** Deliveries: `new`, or `again (attempt n)` for a repeat of one already received. */
  received?: string;
  /** Error code and message of a refusal or failure: our own words, never the caller's input. */
  error?: string;
  reason?: string;
  /** A 400's problems (which fields are wrong), sliced: see `problemsForLog`. */
  problems?: string[];
  /** A failure's causes, outermost first, as "Name: message" (never a body or a secret). */
  causes?: string[];
  /** Something the operator should know although the request was served (stale secrets). */
  warning?: string;
}

/** Longest logged text, in code points: enough for a field path and what is wrong with it. */
export const MAX_LOGGED_TEXT = 200;
/** Problems logged per request: the first ones say what to fix. */
export const MAX_LOGGED_PROBLEMS = 20;
const MAX_CAUSES = 5;

/** At most `max` code points (never half a surrogate pair), marked with "…" when cut. */
export function sliceForLog(text: string, max = MAX_LOGGED_TEXT): string {
  let end = 0;
  for (let n = 0; n < max && end < text.length; n++) end += text.codePointAt(end)! > 0xffff ? 2 : 1;
  return end >= text.length ? text : `${text.slice(0, end)}…`;
}

/** C0 and C1 controls, DEL and the Unicode line separators as \uXXXX. */
export function escapeControls(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- matching controls is the point
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function problemsForLog(problems: readonly string[]): string[] {
  const logged = problems.slice(0, MAX_LOGGED_PROBLEMS).map((p) => sliceForLog(p));
  if (problems.length > logged.length) logged.push(`... ${problems.length - logged.length} more`);
  return logged;
}

/** The `cause` chain below `error`, as "Name: message", sliced. */
export function causesForLog(error: unknown): string[] {
  const causes: string[] = [];
  let cause = error instanceof Error ? error.cause : undefined;
  while (cause !== undefined && causes.length < MAX_CAUSES) {
    causes.push(
      cause instanceof Error
        ? sliceForLog(`${cause.name}: ${cause.message}`)
        : sliceForLog(String(cause)),
    );
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return causes;
}

export type LogFormat = 'json' | 'pretty';

export function formatRequestLog(entry: RequestLog, format: LogFormat): string {
  if (format === 'json') return JSON.stringify({ msg: 'request', ...entry });
  const parts = [
    new Date().toISOString().slice(11, 19),
    entry.method,
    sliceForLog(entry.path),
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
  if (entry.problems?.length) parts.push(`[${entry.problems.join('; ')}]`);
  if (entry.causes?.length) parts.push(`caused by ${entry.causes.join(' <- ')}`);
  if (entry.warning) parts.push(`warning: ${entry.warning}`);
  parts.push(`${entry.ms}ms`);
  if (entry.deliveryId) parts.push(`delivery=${sliceForLog(entry.deliveryId, 100)}`);
  if (entry.user) parts.push(`user=${sliceForLog(entry.user, 100)}`);
  if (entry.sourceIp) parts.push(`from=${entry.sourceIp}`);
  if (entry.requestId) parts.push(`request=${entry.requestId}`);
  return escapeControls(parts.join(' '));
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
  /** Events that came with other text than the one stored first (issue 18): count, and uuids. */
  conflicts?: number;
  conflictUuids?: string[];
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
  if (entry.conflicts) parts.push(`conflicts=${entry.conflicts}`);
  if (entry.reason) parts.push(entry.reason);
  parts.push(`${entry.ms}ms`);
  if (entry.lagMs !== undefined) parts.push(`(${entry.lagMs}ms after receipt)`);
  // Event types and reasons come from outside (a delivery's body): never raw on a terminal.
  return escapeControls(parts.join(' '));
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
  return escapeControls(parts.join(' '));
}

export function logReconcile(entry: ReconcileLog, format: LogFormat): void {
  const line = formatReconcileLog(entry, format);
  if (entry.level === 'info') console.log(line);
  else console.error(line);
}
