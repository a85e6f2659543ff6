/**
 * GET: Okta's one-time verification. Echoes X-Okta-Verification-Challenge as
 * {"verification": ...}. Okta sends the hook's auth header here too, so createEndpoint
 * authenticates it like a delivery. Imports nothing that touches DynamoDB, so it starts fast.
 */
import { type EndpointDeps, authenticateOktaCaller, createEndpoint } from '../http/endpoint';
import { jsonResponse } from '../http/http';
import { verificationBody } from '../okta/okta-contract';

export function createVerificationHandler(deps: EndpointDeps = {}) {
  return createEndpoint(deps, authenticateOktaCaller, async ({ request }) =>
    jsonResponse(200, verificationBody(request.headers)),
  );
}
