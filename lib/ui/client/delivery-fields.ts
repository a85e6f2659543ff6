/** What the deliveries view shows of a delivery record, in words. Pure: no DOM. */

export interface DeliveryTiming {
  firstReceivedAt: string;
  storedAt?: string;
}

export const STATUS_LABELS: Record<string, string> = {
  received: 'received',
  stored: 'stored',
  rejected: 'rejected',
};

export const STATUS_TITLES: Record<string, string> = {
  received: 'Durable as received; its events are not written yet',
  stored: 'Its events are written',
  rejected: 'Received, but it can never be stored',
};

/** Who sent it, as the receiver authenticated it. */
export const CALLER_LABELS: Record<string, string> = {
  okta: 'Okta',
  hookdeck: 'Hookdeck',
  unauthenticated: 'no secret (local)',
};

/** 42 ms, 1.2 s, 3 min 5 s, 2 h 10 min. */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) {
    const rest = seconds % 60;
    return `${Math.floor(seconds / 60)} min${rest ? ` ${rest} s` : ''}`;
  }
  const minutes = Math.round(seconds / 60);
  const rest = minutes % 60;
  return `${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ''}`;
}

/** 512 bytes, 3.4 KB, 1.2 MB (1 KB = 1,024 bytes). */
export function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * From the first receipt to its events being durable (the stream's lag included), in ms;
 * undefined until the delivery is stored.
 */
export function timeToStoreMs(record: DeliveryTiming): number | undefined {
  if (!record.storedAt) return undefined;
  const ms = Date.parse(record.storedAt) - Date.parse(record.firstReceivedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** The first few types and how many more: `a, b +3 more`. */
export function typesText(types: readonly string[], shown = 2): string {
  if (types.length === 0) return '—';
  const head = types.slice(0, shown).join(', ');
  return types.length > shown ? `${head} +${types.length - shown} more` : head;
}
