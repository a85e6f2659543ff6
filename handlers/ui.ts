import assets from 'ui-assets';
import { createUiHandler } from '../lib/ui/ui-endpoint';

/** GET /ui and its assets, GET/POST/DELETE /ui/session: the event browser. */
export const handler = createUiHandler({ assets });
