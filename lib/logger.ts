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
  stored?: number;
  duplicates?: number;
  /** Error code and message of a refusal or failure: our own words, never the caller's input. */
  error?: string;
  reason?: string;
  /** Something the operator should know although the request was served (stale secrets). */
  warning?: string;
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
  if (entry.stored !== undefined)
    parts.push(`stored=${entry.stored} duplicates=${entry.duplicates ?? 0}`);
  if (entry.error) parts.push(`${entry.error}: ${entry.reason ?? ''}`.trim());
  parts.push(`${entry.ms}ms`);
  return parts.join(' ');
}

export function logRequest(entry: RequestLog, format: LogFormat): void {
  const line = formatRequestLog(entry, format);
  if (entry.level === 'info') console.log(line);
  else console.error(line);
}
