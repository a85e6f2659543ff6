/**
 * The events view's detail panel (`event=<uuid>`): the event's JSON exactly as stored, the
 * deliveries that carried it, and its reactions.
 */
import * as api from './api';
import { renderCarriers } from './delivery-detail';
import { renderDetail, renderReactions } from './detail';
import { byId, show } from './dom';
import { markSelectedRow, openerOf, shownEvents } from './event-list';
import { go, nav } from './navigation';
import { handleError, loaded, setStatus } from './page-status';

const els = {
  detail: byId('detail'),
  detailClose: byId<HTMLButtonElement>('detail-close'),
  detailCopy: byId<HTMLButtonElement>('detail-copy'),
  detailJson: byId('detail-json'),
  carriers: byId('detail-deliveries'),
  carriersList: byId('detail-deliveries-list'),
  carriersStatus: byId('detail-deliveries-status'),
  reactions: byId('detail-reactions'),
  reactionsList: byId('detail-reactions-list'),
  reactionsStatus: byId('detail-reactions-status'),
};

let detailUuid: string | undefined;
let detailPretty = '';

/** Forgets the event shown, so the next sync loads it again. */
export function resetDetail(): void {
  detailUuid = undefined;
}

export function hideDetail(): void {
  show(els.detail, false);
}

export function closeEvent(): void {
  const uuid = nav.view.event;
  go({ ...nav.view, event: undefined }, { replace: true, back: nav.back });
  const opener = uuid ? openerOf(uuid) : null;
  opener?.focus();
}

/** Escape closes the open event. */
export function closeDetailOnEscape(): void {
  if (nav.view.event && !els.detail.hidden) closeEvent();
}

export function syncDetail(): void {
  const { view } = nav;
  markSelectedRow();
  if (!view.event || view.view === 'deliveries') {
    detailUuid = undefined;
    show(els.detail, false);
    document.body.classList.remove('detail-open');
    return;
  }
  if (view.event === detailUuid) return;
  detailUuid = view.event;
  void loadDetail(view.event);
}

async function loadDetail(uuid: string): Promise<void> {
  show(els.detail, true);
  document.body.classList.add('detail-open');
  byId('detail-title').textContent = 'Loading…';
  byId('detail-summary').replaceChildren();
  els.detailJson.replaceChildren();
  els.detailJson.classList.remove('error');
  show(els.carriers, false);
  els.carriersList.replaceChildren();
  show(els.reactions, false);
  els.reactionsList.replaceChildren();
  detailPretty = '';
  els.detail.focus();
  try {
    // All at once: the deliveries and reactions of an event that turns out not to exist are
    // not shown.
    const carriers = api.listEventDeliveries(uuid);
    carriers.catch(() => undefined); // handled below, once the event is known
    const reactions = api.listEventReactions(uuid);
    reactions.catch(() => undefined);
    const text = await api.getEventText(uuid);
    if (uuid !== detailUuid) return;
    if (text === undefined) {
      byId('detail-title').textContent = 'No such event';
      els.detailJson.textContent = `No event with uuid ${uuid} is stored.`;
      return;
    }
    const meta = shownEvents().find((s) => s.row.uuid === uuid)?.meta;
    detailPretty = renderDetail(text, meta);
    show(els.carriers, true);
    setStatus(els.carriersStatus, 'Loading…');
    await Promise.all([
      carriers.then(
        (found) => {
          if (uuid === detailUuid) renderCarriers(els.carriersList, els.carriersStatus, found);
        },
        (error: unknown) => {
          if (uuid === detailUuid) handleError(error, els.carriersStatus);
        },
      ),
      // Hidden until it answers: most events have no reactions, and the section would flicker.
      reactions.then(
        (outcomes) => {
          if (uuid !== detailUuid) return;
          setStatus(els.reactionsStatus, '');
          renderReactions(els.reactions, els.reactionsList, outcomes);
        },
        (error: unknown) => {
          if (uuid !== detailUuid) return;
          show(els.reactions, true);
          handleError(error, els.reactionsStatus);
          // The rest of the panel stands; this section says what failed.
          if (!(error instanceof api.SignedOutError)) {
            els.reactionsStatus.prepend('Its reactions could not be read: ');
          }
        },
      ),
    ]);
  } catch (error) {
    if (uuid === detailUuid) handleError(error, els.detailJson);
  } finally {
    if (uuid === detailUuid) loaded('detail');
  }
}

async function copyJson(): Promise<void> {
  try {
    await navigator.clipboard.writeText(detailPretty);
    els.detailCopy.textContent = 'Copied';
  } catch {
    getSelection()?.selectAllChildren(els.detailJson); // clipboard refused: select it instead
    els.detailCopy.textContent = 'Selected';
  }
  setTimeout(() => (els.detailCopy.textContent = 'Copy'), 1500);
}

export function wireDetail(): void {
  els.detailClose.addEventListener('click', closeEvent);
  els.detailCopy.addEventListener('click', () => void copyJson());
}
