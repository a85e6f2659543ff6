/** Okta's error answers, shared by the fake org's APIs (fake-org.ts, event-hooks-api.ts). */
import { randomBytes } from 'node:crypto';

/** A refusal the fake org answers with: status, Okta's JSON error body, extra headers. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.errorSummary ?? body.error_description ?? body.error ?? status));
  }
}

/** Okta's management API error shape: errorCode, errorSummary, errorLink, errorId, errorCauses. */
export function oktaError(status: number, code: string, summary: string, causes: string[] = []) {
  return new HttpRefusal(status, {
    errorCode: code,
    errorSummary: summary,
    errorLink: code,
    errorId: `oae${randomBytes(11).toString('base64url')}`,
    errorCauses: causes.map((errorSummary) => ({ errorSummary })),
  });
}

/** The OAuth 2.0 error shape of the token endpoint. */
export function oauthError(status: number, error: string, description: string) {
  return new HttpRefusal(status, { error, error_description: description });
}
