/** What every part of the page reports: finished loads, status lines, and errors. */
import * as api from './api';

/**
 * Finished loads, on <body data-list-loads data-chart-loads data-detail-loads
 * data-delivery-list-loads data-delivery-loads>: lets a test (or a person with devtools) tell
 * a settled view from one still loading. An event's detail counts once its deliveries and
 * reactions are in.
 */
export function loaded(what: 'list' | 'chart' | 'detail' | 'deliveryList' | 'delivery'): void {
  const key = `${what}Loads` as const;
  document.body.dataset[key] = String(Number(document.body.dataset[key] ?? 0) + 1);
}

export function setStatus(element: HTMLElement, text: string): void {
  element.textContent = text;
  element.classList.remove('error');
}

/** Shows the sign-in form: set once by main.ts (the sign-in panel imports the views). */
let signedOut: (message: string) => void = () => undefined;

export function onSignedOut(handler: (message: string) => void): void {
  signedOut = handler;
}

export function handleError(error: unknown, status: HTMLElement): void {
  if ((error as Error).name === 'AbortError') return;
  if (error instanceof api.SignedOutError) {
    signedOut('Your session has ended: sign in again.');
    return;
  }
  if (!(error instanceof api.ApiError)) console.error(error); // ours, not the service's answer
  status.textContent = error instanceof Error ? error.message : String(error);
  status.classList.add('error');
}
