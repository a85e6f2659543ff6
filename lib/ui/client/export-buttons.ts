/** The events view's export buttons: every event the filters match, as CSV or JSON lines. */
import { byId, number, show } from './dom';
import { type ExportFormat, download, exportEvents, exportFileName } from './export';
import { nav } from './navigation';
import { handleError, setStatus } from './page-status';
import { apiParams, filtersOf } from './view-state';

const els = {
  exportCsv: byId<HTMLButtonElement>('export-csv'),
  exportJsonl: byId<HTMLButtonElement>('export-jsonl'),
  exportCancel: byId<HTMLButtonElement>('export-cancel'),
  exportStatus: byId('export-status'),
};

let exportController: AbortController | undefined;

async function startExport(format: ExportFormat): Promise<void> {
  exportController?.abort();
  const controller = new AbortController();
  exportController = controller;
  els.exportCsv.disabled = els.exportJsonl.disabled = true;
  show(els.exportCancel, true);
  setStatus(els.exportStatus, 'Exporting…');
  try {
    const { blob, count } = await exportEvents(
      format,
      apiParams(filtersOf(nav.view), Date.now()),
      (n) => setStatus(els.exportStatus, `Exporting… ${number.format(n)} events`),
      controller.signal,
    );
    download(blob, exportFileName(format));
    setStatus(
      els.exportStatus,
      `Exported ${number.format(count)} event${count === 1 ? '' : 's'} as ${format === 'csv' ? 'CSV' : 'JSON lines'}.`,
    );
  } catch (error) {
    if ((error as Error).name === 'AbortError') setStatus(els.exportStatus, 'Export cancelled.');
    else handleError(error, els.exportStatus);
  } finally {
    if (exportController === controller) {
      els.exportCsv.disabled = els.exportJsonl.disabled = false;
      show(els.exportCancel, false);
    }
  }
}

export function wireExport(): void {
  els.exportCsv.addEventListener('click', () => void startExport('csv'));
  els.exportJsonl.addEventListener('click', () => void startExport('jsonl'));
  els.exportCancel.addEventListener('click', () => exportController?.abort());
}
