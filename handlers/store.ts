import { createStoreHandler } from '../lib/stream/store-deliveries';

/** The table's stream: writes the events of each delivery the receiver recorded. */
export const handler = createStoreHandler();
