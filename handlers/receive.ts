import { createDeliveryHandler } from '../lib/delivery-endpoint';

/** POST <webhook path>: stores an Okta event hook delivery. */
export const handler = createDeliveryHandler();
