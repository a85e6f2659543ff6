/**
 * The event browser's page: sign-in (sign-in-panel.ts), then the events view (filters in the
 * URL, cursor paging, click-to-filter, the count chart, export, live mode, or the events one
 * delivery carried) and its detail panel (the event's JSON, the deliveries that carried it, its
 * reactions), and the deliveries view (deliveries-view.ts). This file wires them: it draws the
 * view the URL asks for (navigation.ts) and routes the keys and clicks that span views.
 */
import './style.css';
import { createDeliveriesView } from './deliveries-view';
import { byId, show } from './dom';
import { resetChart, syncChart, wireChart } from './event-chart';
import {
  closeDetailOnEscape,
  hideDetail,
  resetDetail,
  syncDetail,
  wireDetail,
} from './event-detail-panel';
import { fillFilterForm, loadEventTypes, wireFilters } from './event-filters';
import { clearList, resetList, syncList, wireList } from './event-list';
import { wireExport } from './export-buttons';
import { stopLive, syncLive, wireLive } from './live-mode';
import { backFromHistory, go, nav, onNavClick, onPopState, setRender } from './navigation';
import { handleError, loaded, onSignedOut } from './page-status';
import { createSignInPanel } from './sign-in-panel';
import { deliveryView, viewToSearch } from './view-state';

const els = {
  tabEvents: byId<HTMLAnchorElement>('tab-events'),
  tabDeliveries: byId<HTMLAnchorElement>('tab-deliveries'),
  scope: byId('delivery-scope'),
  scopeId: byId('delivery-scope-id'),
  scopeBack: byId<HTMLAnchorElement>('delivery-scope-back'),
  chartSection: byId('chart-section'),
  eventsSection: byId('events-section'),
  listOrder: byId('list-order'),
  liveToggle: byId('live-toggle'),
  exportButtons: byId('export-buttons'),
  filters: byId<HTMLFormElement>('filters'),
};

const deliveries = createDeliveriesView({ go, handleError, loaded });

const signIn = createSignInPanel({
  enter() {
    nav.back = backFromHistory();
    resetChart();
    resetList();
    resetDetail();
    deliveries.reset();
    void loadEventTypes();
    render();
  },
  leave() {
    stopLive();
    clearList();
    hideDetail();
    deliveries.hide();
  },
});

function render(): void {
  const { view } = nav;
  const onDeliveries = view.view === 'deliveries';
  setCurrentTab(onDeliveries ? els.tabDeliveries : els.tabEvents);
  show(els.eventsSection, !onDeliveries);
  if (onDeliveries) {
    show(els.scope, false);
    show(els.filters, false);
    show(els.chartSection, false);
    stopLive();
    syncDetail();
    deliveries.render(view, nav.back);
    return;
  }
  deliveries.hide();
  // The events of one delivery: its list alone, without the filters, chart, export or live mode.
  const scoped = view.delivery !== undefined;
  show(els.scope, scoped);
  show(els.filters, !scoped);
  show(els.chartSection, !scoped);
  show(els.liveToggle, !scoped);
  show(els.exportButtons, !scoped);
  els.listOrder.textContent = scoped ? 'in the order the delivery carried them' : 'newest first';
  if (scoped) {
    els.scopeId.textContent = view.delivery!;
    els.scopeBack.href = `ui${viewToSearch(deliveryView(view.delivery))}`;
  }
  fillFilterForm();
  syncList();
  if (!scoped) syncChart();
  syncDetail();
  syncLive();
}

function setCurrentTab(current: HTMLAnchorElement): void {
  for (const tab of [els.tabEvents, els.tabDeliveries]) {
    if (tab === current) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
}

function wire(): void {
  setRender(render);
  onSignedOut(signIn.showSignIn);
  wireFilters();
  wireList();
  signIn.wire();
  wireLive();
  wireExport();
  wireDetail();
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (nav.view.view === 'deliveries') deliveries.closeOnEscape();
    else closeDetailOnEscape();
  });
  document.addEventListener('click', onNavClick);
  deliveries.wire();
  window.addEventListener('popstate', onPopState);
  wireChart();
}

wire();
void signIn.start();
