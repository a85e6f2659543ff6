import { createReconcileHandler } from '../lib/reconcile/reconcile-handler';

/** Scheduled: stores what the event hook missed, from Okta's System Log. */
export const handler = createReconcileHandler();
