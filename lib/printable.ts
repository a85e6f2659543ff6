/**
 * Text from outside (stored events, request parameters) made safe to print on a terminal or
 * quote in a message: control characters are shown as escapes instead of being acted on, so an
 * ESC sequence or a newline in a field cannot move the cursor, recolour or forge a line. Built
 * on the logger's escapeControls and sliceForLog, so every output escapes the same way.
 */
import { escapeControls, sliceForLog } from './logger';

/**
 * Valid JSON text made safe for a terminal without changing its value: JSON already escapes
 * C0 controls inside strings; DEL, C1 controls and the line separators (which it may hold raw,
 * and only inside strings) become \u escapes.
 */
export function printableJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u2028\u2029]/g, escapeControls);
}

/** A caller's value quoted for a message: at most `max` characters, escaped, in double quotes. */
export function quoted(value: string, max = 100): string {
  return `"${escapeControls(sliceForLog(value, max)).replace(/"/g, '\\"')}"`;
}
