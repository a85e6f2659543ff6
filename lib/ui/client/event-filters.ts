/** The events view's filter form: event type, user and time range, and the event types known. */
import * as api from './api';
import { byId, h, show } from './dom';
import { go, nav } from './navigation';
import { handleError } from './page-status';
import { fromLocalInput, localTime, toLocalInput } from './time-format';
import { type Filters, RANGES } from './view-state';

const els = {
  filters: byId<HTMLFormElement>('filters'),
  type: byId<HTMLSelectElement>('f-type'),
  user: byId<HTMLInputElement>('f-user'),
  range: byId<HTMLSelectElement>('f-range'),
  since: byId<HTMLInputElement>('f-since'),
  until: byId<HTMLInputElement>('f-until'),
  clear: byId<HTMLButtonElement>('clear-filters'),
  listStatus: byId('list-status'),
};

/** A new filter: back to the newest page; live mode and the open event stay. */
export function applyFilters(filters: Filters): void {
  const { view } = nav;
  go({ ...filters, live: view.live, limit: view.limit, event: view.event });
}

function ensureTypeOption(type: string): void {
  if (![...els.type.options].some((o) => o.value === type)) {
    els.type.append(h('option', { value: type }, type));
  }
}

export async function loadEventTypes(): Promise<void> {
  try {
    const types = await api.listEventTypes();
    els.type.replaceChildren(h('option', { value: '' }, 'All event types'));
    for (const { eventType, lastSeenAt } of types) {
      els.type.append(
        h(
          'option',
          { value: eventType, title: `last received ${localTime(lastSeenAt)}` },
          eventType,
        ),
      );
    }
    fillFilterForm();
  } catch (error) {
    handleError(error, els.listStatus);
  }
}

export function fillFilterForm(): void {
  const { view } = nav;
  if (view.type) ensureTypeOption(view.type);
  els.type.value = view.type ?? '';
  els.user.value = view.user ?? '';
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

function filtersFromForm(): Filters {
  const filters: Filters = {};
  if (els.type.value) filters.type = els.type.value;
  const user = els.user.value.trim();
  if (user) filters.user = user;
  if (els.range.value === 'custom') {
    filters.since = fromLocalInput(els.since.value);
    filters.until = fromLocalInput(els.until.value);
  } else if (els.range.value) {
    filters.range = els.range.value;
  }
  return filters;
}

export function wireFilters(): void {
  const custom = els.range.querySelector('option[value="custom"]');
  for (const [value, { label }] of Object.entries(RANGES)) {
    els.range.insertBefore(h('option', { value }, label), custom);
  }
  els.filters.addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters(filtersFromForm());
  });
  els.type.addEventListener('change', () => applyFilters(filtersFromForm()));
  els.range.addEventListener('change', () => {
    if (els.range.value === 'custom') {
      showCustomRange(true);
      els.since.focus();
    } else {
      applyFilters(filtersFromForm());
    }
  });
  els.clear.addEventListener('click', () => go({ live: nav.view.live, limit: nav.view.limit }));
}
