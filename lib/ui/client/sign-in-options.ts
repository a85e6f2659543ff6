/**
 * The sign-in panel's choices and the top bar's note, from GET /ui/session: "Sign in with Okta"
 * (a link to ui/login: the server runs the OpenID Connect flow) and the token form, each shown
 * only where the stage offers it.
 */
import type { SessionState } from './api';
import { byId, show } from './dom';
import { localTime } from './time-format';

/** Shows the offered sign-ins; true when the token form is among them (to focus it). */
export function showSignInOptions(session: SessionState | undefined): boolean {
  const offered = session?.signIns ?? { okta: false, token: true };
  show(byId('okta-sign-in'), offered.okta);
  show(byId('sign-in-form'), offered.token);
  show(byId('sign-in-or'), offered.okta && offered.token);
  show(byId('no-sign-in'), !offered.okta && !offered.token);
  return offered.token;
}

/** Who is signed in, and until when. */
export function sessionNote(session: SessionState): string {
  if (!session.tokenRequired) return 'Open: no EVENTS_API_TOKEN on this local stage';
  const until = session.expiresAt ? ` until ${localTime(session.expiresAt, false)}` : '';
  return session.user ? `Signed in as ${session.user}${until}` : until ? `Signed in${until}` : '';
}
