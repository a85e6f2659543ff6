/** Times as the page shows them: the browser's local time zone, ISO-like. Pure: no DOM. */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-11-01 09:00:03.123` in local time; the text itself when it is not a time. */
export function localTime(iso: string, withMs = true): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const d = new Date(ms);
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

/** The value of an `<input type="datetime-local" step="1">` for an ISO time. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  return localTime(iso, false).replace(' ', 'T');
}

/** An ISO time for a datetime-local value (read as local time); undefined when empty or invalid. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** A bucket width in words: 1 second, 5 minutes, 1 day. */
export function durationLabel(seconds: number): string {
  const units: [number, string][] = [
    [86400 * 365, 'year'],
    [86400 * 7, 'week'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}
