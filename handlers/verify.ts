import { createVerificationHandler } from '../lib/verification-endpoint';

/** GET <webhook path>: answers Okta's one-time verification challenge. */
export const handler = createVerificationHandler();
