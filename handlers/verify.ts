import { createVerificationHandler } from '../lib/webhook/verification-endpoint';

/** GET <webhook path>: answers Okta's one-time verification challenge. */
export const handler = createVerificationHandler();
