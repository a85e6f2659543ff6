import { createReactHandler } from '../lib/reactions/react-stream';

/** The table's stream: runs the reactions (lib/reactions/) on each stored event. */
export const handler = createReactHandler();
