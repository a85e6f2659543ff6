import { createReadApiHandler } from '../lib/read-api/read-api';

/** GET /events, /deliveries and the rest of the read API: finds and reviews stored events. */
export const handler = createReadApiHandler();
