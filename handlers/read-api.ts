import { createReadApiHandler } from '../lib/read-api/read-api';

/** GET /events, /events/{uuid}, /deliveries: finds and reviews stored events. */
export const handler = createReadApiHandler();
