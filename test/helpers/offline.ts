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
  /** Stops both; resolves to the pids still running afterwards (none, normally). */
  stop(): Promise<number[]>;
}

export async function startTestStack(env: NodeJS.ProcessEnv): Promise<TestStack> {
  const db = await startTestDynamoDb();
  const lines: string[] = [];
  try {
    await ensureTable(db.client, DEFAULT_TABLE_NAME);
    const offline = await startServerlessOffline({
      httpPort: await freePort(),
      env: { ...process.env, DYNAMODB_ENDPOINT: db.local.endpoint, ...env },
      onLine: (line) => lines.push(line),
    });
    return {
      db,
      offline,
      url: `${offline.url}/okta-webhooks-endpoint`,
      tableName: DEFAULT_TABLE_NAME,
      lines,
      async stop() {
        const pids = [offline.pid, db.local.pid];
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
