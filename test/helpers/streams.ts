/**
 * The table's stream for in-process tests: the real stream runner on DynamoDB Local, invoking
 * the stream functions in this process (the e2e tests invoke them through serverless offline).
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Config } from '../../lib/config';
import {
  type FailedBatch,
  type Invoke,
  type StreamConsumer,
  type StreamRunner,
  startStreamRunner,
  streamConsumers,
} from '../../lib/local/stream-runner';
import { createStoreHandler } from '../../lib/stream/store-deliveries';
import type { TestDynamoDb } from './dynamodb';

export type StreamHandler = (event: DynamoDBStreamEvent, context: unknown) => Promise<unknown>;

/** Calls handlers in-process, with a Lambda context of `remainingMs`; a throw is a function error. */
export function inProcessInvoker(
  handlers: Record<string, StreamHandler>,
  remainingMs = 60_000,
): Invoke {
  return async (name, event) => {
    const handler = handlers[name];
    if (!handler) return { ok: true, response: null }; // a consumer this test does not run
    const deadline = Date.now() + remainingMs;
    try {
      const response = await handler(event, {
        getRemainingTimeInMillis: () => deadline - Date.now(),
      });
      return { ok: true, response };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  };
}

export interface TestStreams extends StreamRunner {
  failures: FailedBatch[];
}

/**
 * A stream runner on `tableName` running the `store` function in-process with `config`
 * (or other handlers). Stop it when the test is done.
 */
export async function startTestStreams(
  db: TestDynamoDb,
  tableName: string,
  options: {
    config?: Config;
    handlers?: Record<string, StreamHandler>;
    consumers?: StreamConsumer[];
    remainingMs?: number;
    retryBaseMs?: number;
    checkpointFile?: string;
    onLine?: (line: string) => void;
  } = {},
): Promise<TestStreams> {
  const handlers = options.handlers ?? {
    store: createStoreHandler({ config: options.config }) as StreamHandler,
  };
  return startStreamRunner({
    client: db.client,
    endpoint: db.local.endpoint,
    region: 'us-east-1',
    tableName,
    invoke: inProcessInvoker(handlers, options.remainingMs),
    consumers: options.consumers ?? streamConsumers().filter((c) => c.name in handlers),
    retryBaseMs: options.retryBaseMs ?? 10,
    checkpointFile: options.checkpointFile,
    onLine: options.onLine,
  });
}
