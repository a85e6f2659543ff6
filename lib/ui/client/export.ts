/**
 * CSV and JSON-lines export of every event the filters match: the read API's pages of up to
 * 1,000 events are fetched one after the other and each page becomes its own Blob part, so a
 * large export is not one growing string. API Gateway's HTTP API buffers Lambda responses, so
 * the page, not the service, does the streaming. JSON lines are the stored texts, exactly.
 */
import { eventTexts, listEvents } from './api';
import { CSV_HEADER, type EventMeta, csvLine, csvRecord, eventRow } from './event-fields';

export type ExportFormat = 'csv' | 'jsonl';

const PAGE_SIZE = 1000;

export async function exportEvents(
  format: ExportFormat,
  filterParams: URLSearchParams,
  onProgress: (count: number) => void,
  signal: AbortSignal,
): Promise<{ blob: Blob; count: number }> {
  const parts: BlobPart[] = format === 'csv' ? [csvLine(CSV_HEADER)] : [];
  let cursor: string | null = null;
  let count = 0;
  do {
    const params = new URLSearchParams(filterParams);
    params.set('limit', String(PAGE_SIZE));
    if (cursor) params.set('cursor', cursor);
    const page: { events: unknown[]; meta: EventMeta[]; nextCursor: string | null; text: string } =
      await listEvents(params, signal);
    if (format === 'jsonl') {
      const texts = eventTexts(page.text);
      if (texts.length > 0) parts.push(new Blob([texts.join('\n') + '\n']));
    } else {
      parts.push(
        new Blob([
          page.events.map((event, i) => csvRecord(eventRow(event, page.meta[i]))).join(''),
        ]),
      );
    }
    count += page.events.length;
    onProgress(count);
    cursor = page.nextCursor;
  } while (cursor);
  const type = format === 'csv' ? 'text/csv;charset=utf-8' : 'application/x-ndjson';
  return { blob: new Blob(parts, { type }), count };
}

export function exportFileName(format: ExportFormat, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  return `okta-events-${stamp}.${format === 'csv' ? 'csv' : 'jsonl'}`;
}

export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
