/**
 * `npm start`'s stand-in for the deployed schedule: a pass at start, then one every interval,
 * one at a time, each logging its line. Stopping aborts a running pass (a rate-limit wait, a
 * request, a write) and waits for it to end: its cursor is saved after every page, so the
 * interrupted pass loses nothing.
 */
import type { Config } from '../config';
import { logReconcile } from '../logger';
import { createDynamoDbClient } from '../store/dynamodb';
import { passLog } from './reconcile-pass';
import { Reconciler } from './reconciler';

export function startReconcileLoop(config: Config, intervalMs: number): { stop(): Promise<void> } {
  const dynamodb = createDynamoDbClient(config);
  const reconciler = new Reconciler({ dynamodb });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const abort = new AbortController();
  const pass = async () => {
    const result = await reconciler.run(config, { signal: abort.signal });
    logReconcile(passLog(result), config.logFormat);
  };
  const tick = () => {
    running = pass().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort(new Error('npm start is stopping'));
      await running;
      dynamodb.destroy();
    },
  };
}
