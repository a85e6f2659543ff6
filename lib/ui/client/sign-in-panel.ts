/**
 * The sign-in panel and the session: the first look at GET /ui/session, the token form, sign
 * out, and the page-wide failure notice. The views themselves are the page's (main.ts): it
 * says how to enter them once signed in, and how to leave them.
 */
import * as api from './api';
import { byId, show } from './dom';
import { sessionNote, showSignInOptions } from './sign-in-options';

export interface SignInDeps {
  /** Shows the views afresh for the session just begun. */
  enter(): void;
  /** Stops and empties the views: signed out, or the page cannot work. */
  leave(): void;
}

export function createSignInPanel(deps: SignInDeps) {
  const els = {
    fatal: byId('fatal'),
    signIn: byId('sign-in'),
    signInForm: byId<HTMLFormElement>('sign-in-form'),
    signInError: byId('sign-in-error'),
    token: byId<HTMLInputElement>('token'),
    signOut: byId<HTMLButtonElement>('sign-out'),
    sessionNote: byId('session-note'),
    browser: byId('browser'),
  };

  /** The last answer of GET /ui/session: which sign-ins to offer after a sign-out. */
  let signIns: api.SessionState | undefined;

  function showFatal(message: string): void {
    els.fatal.textContent = message;
    show(els.fatal, true);
    show(els.signIn, false);
    show(els.browser, false);
    deps.leave();
  }

  function showSignIn(message = ''): void {
    deps.leave();
    show(els.browser, false);
    show(els.signOut, false);
    els.sessionNote.textContent = '';
    show(els.signIn, true);
    els.signInError.textContent = message;
    if (showSignInOptions(signIns)) els.token.focus();
  }

  function startBrowser(session: api.SessionState): void {
    show(els.signIn, false);
    show(els.browser, true);
    show(els.signOut, session.tokenRequired);
    els.sessionNote.textContent = sessionNote(session);
    deps.enter();
  }

  async function onSignIn(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    els.signInError.textContent = '';
    try {
      const session = await api.signIn(els.token.value);
      els.token.value = '';
      startBrowser(session);
    } catch (error) {
      els.signInError.textContent = error instanceof Error ? error.message : String(error);
      els.token.select();
    }
  }

  async function onSignOut(): Promise<void> {
    let logoutUrl: string | undefined;
    try {
      logoutUrl = await api.signOut();
    } finally {
      // After an Okta sign-in, Okta's own session ends too, then Okta sends the browser back.
      if (logoutUrl) location.assign(logoutUrl);
      else showSignIn('Signed out.');
    }
  }

  function wire(): void {
    els.signInForm.addEventListener('submit', (e) => void onSignIn(e));
    els.signOut.addEventListener('click', () => void onSignOut());
  }

  /** Asks for the session: the views when signed in, else the sign-in panel. */
  async function start(): Promise<void> {
    try {
      const session = await api.getSession();
      signIns = session;
      if (session.signedIn) startBrowser(session);
      else showSignIn();
    } catch (error) {
      showFatal(error instanceof Error ? error.message : String(error));
    }
  }

  return { showSignIn, start, wire };
}
