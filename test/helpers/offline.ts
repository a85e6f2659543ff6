/**
 * The whole local stack for a test file: DynamoDB Local with the local stage's table, and a real
 * `serverless offline` on free ports (never 1337 or 8000), stopped by pid.
 */
import { DEFAULT_TABLE_NAME } from '../../lib/config';
import {
  type ServerlessOffline,
  freePort,
  startServerlessOffline,
} from '../../lib/local/local-stack';
import {
  type FailedBatch,
  type StreamRunner,
  offlineInvoker,
  startStreamRunner,
} from '../../lib/local/stream-runner';
import { ensureTable } from '../../lib/store/table-definition';
import { type TestDynamoDb, startTestDynamoDb } from './dynamodb';
import { isRunning } from './run';

export interface TestStack {
  db: TestDynamoDb;
  offline: ServerlessOffline;
  /** The webhook endpoint. */
  url: string;
  tableName: string;
  /** Every line serverless offline printed. */
  lines: string[];
  /** The table's stream, invoking the stream functions through serverless offline. */
  streams: StreamRunner;
  /** Batches the stream functions gave up on (the on-failure path). */
  failures: FailedBatch[];
  /** Stops both; resolves to the pids still running afterwards (none, normally). */
  stop(): Promise<number[]>;
}

/**
 * `env` reaches the handlers; `streamRetryBaseMs` spaces the stream runner's retries (faults
 * tests make it long enough for an outage to end within the retries).
 */
export async function startTestStack(
  env: NodeJS.ProcessEnv,
  { streamRetryBaseMs }: { streamRetryBaseMs?: number } = {},
): Promise<TestStack> {
  const db = await startTestDynamoDb();
  const lines: string[] = [];
  try {
    await ensureTable(db.client, DEFAULT_TABLE_NAME);
    const offline = await startServerlessOffline({
      httpPort: await freePort(),
      env: { ...process.env, DYNAMODB_ENDPOINT: db.local.endpoint, ...env },
      onLine: (line) => lines.push(line),
    });
    let streams: StreamRunner;
    try {
      streams = await startStreamRunner({
        client: db.client,
        endpoint: db.local.endpoint,
        region: 'us-east-1',
        tableName: DEFAULT_TABLE_NAME,
        invoke: offlineInvoker(offline.lambdaPort, 'okta-event-hooks', 'local'),
        onLine: (line) => lines.push(line),
        retryBaseMs: streamRetryBaseMs,
      });
    } catch (error) {
      await offline.stop();
      throw error;
    }
    return {
      db,
      offline,
      url: `${offline.url}/okta-webhooks-endpoint`,
      tableName: DEFAULT_TABLE_NAME,
      lines,
      streams,
      failures: streams.failures,
      async stop() {
        const pids = [offline.pid, db.local.pid];
        await streams.stop();
        await offline.stop();
        await db.stop();
        return pids.filter(isRunning);
      },
    };
  } catch (error) {
    await db.stop();
    throw error;
  }
}
