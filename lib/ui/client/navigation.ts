/**
 * Where the page is: the view state in the URL (view-state.ts) and the cursors of the pages
 * before this one. Changing view, filters or pages pushes a history entry; opening or closing
 * an event or a delivery and toggling live mode replace the current one. The cursors of
 * earlier pages ride along in history.state, so Back works after a reload too. Links between
 * views are real links (data-nav) taken in-page.
 */
import { type ViewState, parseView, viewToSearch } from './view-state';

export const nav: {
  view: ViewState;
  /** Cursors of the pages before this one, oldest first ('' is the newest page). */
  back: string[];
} = { view: parseView(location.search), back: [] };

/** Draws the page for nav.view: set once by main.ts (which imports every view). */
let render: () => void = () => undefined;

export function setRender(draw: () => void): void {
  render = draw;
}

export function go(next: ViewState, options: { replace?: boolean; back?: string[] } = {}): void {
  nav.view = next;
  nav.back = options.back ?? [];
  const url = location.pathname + viewToSearch(nav.view);
  if (options.replace) history.replaceState({ back: nav.back }, '', url);
  else history.pushState({ back: nav.back }, '', url);
  render();
}

/** The cursors of earlier pages, as the history entry keeps them. */
export function backFromHistory(): string[] {
  return (history.state as { back?: string[] } | null)?.back ?? [];
}

/** Back or Forward: the page the URL and history entry say. */
export function onPopState(): void {
  nav.view = parseView(location.search);
  nav.back = backFromHistory();
  render();
}

/** A plain click on an in-page link (data-nav) navigates here; others open as links do. */
export function onNavClick(event: MouseEvent): void {
  const link = (event.target as Element).closest<HTMLAnchorElement>('a[data-nav]');
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  if (event.altKey || link.target) return;
  event.preventDefault();
  go(parseView(new URL(link.href).search));
}
