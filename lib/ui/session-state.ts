/**
 * The answer of GET /ui/session (ui-endpoint.ts). A plain shape that imports nothing: the page
 * (lib/ui/client/api.ts) imports its type.
 */

export interface SessionState {
  /**
   * False when neither EVENTS_API_TOKEN nor Okta sign-in is set (the local stage only): the page
   * needs no sign-in. (The name is older than Okta sign-in: it means "sign-in required".)
   */
  tokenRequired: boolean;
  signedIn: boolean;
  /** When the session cookie stops being accepted (ISO time). */
  expiresAt?: string;
  /** The login of a user signed in with Okta. */
  user?: string;
  /** The sign-ins the page offers: "Sign in with Okta", and the token form. */
  signIns: { okta: boolean; token: boolean };
}
