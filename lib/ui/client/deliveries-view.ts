/**
 * The deliveries view (`?view=deliveries`): deliveries newest first by first receipt, a time
 * range and cursor paging in the URL, and the open delivery (`delivery=<id>`) in its own detail
 * panel with its headers and body as received. The page (main.ts) owns navigation and hands
 * each view state to render().
 */
import * as api from './api';
import { deliveryHeaderRow, deliveryRowView } from './deliveries-table';
import { renderDeliveryBody, renderDeliveryDetail } from './delivery-detail';
import { byId, h, pageInfo, show } from './dom';
import { fromLocalInput, toLocalInput } from './time-format';
import { DEFAULT_LIMIT, RANGES, type ViewState, apiParams, viewToSearch } from './view-state';

export interface DeliveriesDeps {
  go(next: ViewState, options?: { replace?: boolean; back?: string[] }): void;
  handleError(error: unknown, status: HTMLElement): void;
  loaded(what: 'deliveryList' | 'delivery'): void;
}

export function createDeliveriesView(deps: DeliveriesDeps) {
  const els = {
    section: byId('deliveries-section'),
    filters: byId<HTMLFormElement>('d-filters'),
    range: byId<HTMLSelectElement>('d-range'),
    since: byId<HTMLInputElement>('d-since'),
    until: byId<HTMLInputElement>('d-until'),
    status: byId('deliveries-status'),
    table: byId<HTMLTableElement>('deliveries'),
    newest: byId<HTMLButtonElement>('d-page-newest'),
    back: byId<HTMLButtonElement>('d-page-back'),
    next: byId<HTMLButtonElement>('d-page-next'),
    pageInfo: byId('d-page-info'),
    detail: byId('delivery-detail'),
    close: byId<HTMLButtonElement>('delivery-close'),
    exact: byId<HTMLInputElement>('delivery-exact'),
    copy: byId<HTMLButtonElement>('delivery-copy'),
    body: byId('delivery-body'),
  };

  let view: ViewState = { view: 'deliveries', live: false };
  let back: string[] = [];
  let listKey: string | undefined;
  let generation = 0;
  let nextCursor: string | null = null;
  let shownCount = 0;
  let pageNow = Date.now();
  let openId: string | undefined;
  let openBody = '';
  let shownBody = '';

  function setStatus(text: string): void {
    els.status.textContent = text;
    els.status.classList.remove('error');
  }

  // ---- the list ----------------------------------------------------------------------------

  function fillFilterForm(): void {
    const custom = !view.range && (view.since !== undefined || view.until !== undefined);
    els.range.value = view.range ?? (custom ? 'custom' : '');
    els.since.value = toLocalInput(view.since);
    els.until.value = toLocalInput(view.until);
    showCustomRange(custom);
  }

  function showCustomRange(visible: boolean): void {
    for (const field of els.filters.querySelectorAll<HTMLElement>('.field.custom')) {
      show(field, visible);
    }
  }

  function applyRange(): void {
    const next: ViewState = { view: 'deliveries', live: false, limit: view.limit };
    if (els.range.value === 'custom') {
      next.since = fromLocalInput(els.since.value);
      next.until = fromLocalInput(els.until.value);
    } else if (els.range.value) {
      next.range = els.range.value;
    }
    deps.go(next);
  }

  async function loadList(): Promise<void> {
    const current = ++generation;
    pageNow = view.at ? Date.parse(view.at) : Date.now();
    const params = apiParams({ range: view.range, since: view.since, until: view.until }, pageNow);
    params.set('limit', String(view.limit ?? DEFAULT_LIMIT));
    if (view.cursor) params.set('cursor', view.cursor);
    setStatus('Loading…');
    els.table.setAttribute('aria-busy', 'true');
    try {
      const page = await api.listDeliveries(params);
      if (current !== generation) return;
      els.table.tBodies[0]!.replaceChildren(...page.deliveries.map(deliveryRowView));
      shownCount = page.deliveries.length;
      nextCursor = page.nextCursor;
      markSelectedRow();
      setStatus(shownCount === 0 ? 'No deliveries were received in this time range.' : '');
    } catch (error) {
      if (current !== generation) return;
      els.table.tBodies[0]!.replaceChildren();
      shownCount = 0;
      nextCursor = null;
      listKey = undefined; // the same view asked again tries again
      deps.handleError(error, els.status);
    } finally {
      if (current === generation) {
        els.table.removeAttribute('aria-busy');
        updatePager();
        deps.loaded('deliveryList');
      }
    }
  }

  function updatePager(): void {
    els.newest.disabled = !view.cursor;
    els.back.disabled = !view.cursor;
    els.next.disabled = !nextCursor;
    els.pageInfo.textContent = pageInfo(view.cursor, back.length, shownCount, [
      'delivery',
      'deliveries',
    ]);
  }

  function nextPage(): void {
    if (!nextCursor) return;
    const at = view.range ? (view.at ?? new Date(pageNow).toISOString()) : undefined;
    deps.go({ ...view, cursor: nextCursor, at }, { back: [...back, view.cursor ?? ''] });
  }

  function previousPage(): void {
    const previous = back.at(-1) ?? '';
    deps.go(
      { ...view, cursor: previous || undefined, at: previous ? view.at : undefined },
      { back: back.slice(0, -1) },
    );
  }

  function markSelectedRow(): void {
    for (const row of els.table.tBodies[0]!.rows) {
      const selected = row.dataset.delivery === view.delivery;
      row.classList.toggle('is-selected', selected);
      if (selected) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    }
  }

  function onTableClick(event: MouseEvent): void {
    const target = event.target as Element;
    const row = target.closest<HTMLTableRowElement>('tr[data-delivery]');
    if (!row) return;
    const opener = target.closest('[data-action="open"]');
    if (!opener && (target.closest('a, button') || getSelection()?.toString())) return;
    deps.go({ ...view, delivery: row.dataset.delivery }, { replace: true, back });
  }

  // ---- the detail panel --------------------------------------------------------------------

  function close(): void {
    const id = view.delivery;
    deps.go({ ...view, delivery: undefined }, { replace: true, back });
    const opener = id
      ? els.table.querySelector<HTMLElement>(
          `tr[data-delivery="${CSS.escape(id)}"] [data-action="open"]`,
        )
      : null;
    opener?.focus();
  }

  function syncDetail(): void {
    markSelectedRow();
    if (!view.delivery) {
      openId = undefined;
      show(els.detail, false);
      document.body.classList.remove('detail-open');
      return;
    }
    if (view.delivery === openId) return;
    openId = view.delivery;
    void loadDetail(view.delivery);
  }

  async function loadDetail(id: string): Promise<void> {
    show(els.detail, true);
    document.body.classList.add('detail-open');
    byId('delivery-title').textContent = 'Loading…';
    byId('delivery-summary').replaceChildren();
    byId('delivery-headers').replaceChildren();
    byId('delivery-events').hidden = true;
    els.body.replaceChildren();
    openBody = shownBody = '';
    els.detail.focus();
    try {
      const delivery = await api.getDelivery(id);
      if (id !== openId) return;
      if (delivery === undefined) {
        byId('delivery-title').textContent = 'No such delivery';
        els.body.textContent = `No delivery with id ${id} is stored.`;
        return;
      }
      renderDeliveryDetail(delivery);
      openBody = delivery.body;
      showBody();
    } catch (error) {
      if (id === openId) deps.handleError(error, els.body);
    } finally {
      if (id === openId) deps.loaded('delivery');
    }
  }

  function showBody(): void {
    els.body.classList.remove('error');
    shownBody = openBody ? renderDeliveryBody(els.body, openBody, els.exact.checked) : '';
    if (!openBody) els.body.textContent = '(empty body)';
  }

  async function copyBody(): Promise<void> {
    try {
      await navigator.clipboard.writeText(shownBody);
      els.copy.textContent = 'Copied';
    } catch {
      getSelection()?.selectAllChildren(els.body); // clipboard refused: select it instead
      els.copy.textContent = 'Selected';
    }
    setTimeout(() => (els.copy.textContent = 'Copy'), 1500);
  }

  return {
    wire(): void {
      const custom = els.range.querySelector('option[value="custom"]');
      for (const [value, { label }] of Object.entries(RANGES)) {
        els.range.insertBefore(h('option', { value }, label), custom);
      }
      els.table.tHead!.append(deliveryHeaderRow());
      els.range.addEventListener('change', () => {
        if (els.range.value === 'custom') {
          showCustomRange(true);
          els.since.focus();
        } else {
          applyRange();
        }
      });
      els.filters.addEventListener('submit', (e) => {
        e.preventDefault();
        applyRange();
      });
      els.table.tBodies[0]!.addEventListener('click', onTableClick);
      els.newest.addEventListener('click', () =>
        deps.go({ ...view, cursor: undefined, at: undefined }),
      );
      els.back.addEventListener('click', previousPage);
      els.next.addEventListener('click', nextPage);
      els.close.addEventListener('click', close);
      els.exact.addEventListener('change', showBody);
      els.copy.addEventListener('click', () => void copyBody());
    },

    /** Shows the view for this state; reloads the list only when its query changed. */
    render(next: ViewState, nextBack: string[]): void {
      view = next;
      back = nextBack;
      show(els.section, true);
      fillFilterForm();
      const { range, since, until, cursor, at, limit } = view;
      const key = viewToSearch({ range, since, until, cursor, at, limit, live: false });
      if (key !== listKey) {
        listKey = key;
        void loadList();
      } else {
        updatePager();
      }
      syncDetail();
    },

    /** Another view (or sign-in) is shown. */
    hide(): void {
      show(els.section, false);
      show(els.detail, false);
      openId = undefined;
    },

    /** A new session: everything is read again. */
    reset(): void {
      listKey = undefined;
      openId = undefined;
    },

    /** Escape: closes the open delivery; false when none is open. */
    closeOnEscape(): boolean {
      if (!view.delivery || els.detail.hidden) return false;
      close();
      return true;
    },
  };
}
