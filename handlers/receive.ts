import { createDeliveryHandler } from '../lib/webhook/delivery-endpoint';

/** POST <webhook path>: stores an Okta event hook delivery. */
export const handler = createDeliveryHandler();
