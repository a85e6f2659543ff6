/**
 * Text from outside (stored events, request parameters) made safe to print on a terminal or in
 * a one-line log: control characters are shown as escapes instead of being acted on, so an
 * ESC sequence or a newline in a field cannot move the cursor, recolour or forge a line.
 */

/** C0 controls (newline, ESC...), DEL, and C1 controls (U+0080-U+009F, e.g. CSI U+009B). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` with every control character written as an escape (`\n`, `\u001b`). */
export function printable(text: string): string {
  return text.replace(CONTROLS, escapeControl);
}

/**
 * Valid JSON text made safe for a terminal without changing its value: JSON already escapes
 * C0 controls inside strings, and DEL and C1 controls (which it may hold raw) become \u escapes.
 */
export function printableJson(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, escapeControl);
}

/** At most `max` characters (code points, never half a surrogate pair), `…` when cut. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

/** A caller's value quoted for a message: shortened, escaped, in double quotes. */
export function quoted(value: string, max = 100): string {
  return `"${printable(shorten(value, max)).replace(/"/g, '\\"')}"`;
}
