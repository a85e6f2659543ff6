/** DynamoDB Local for a test file: started on a free port, one fresh table per call to newTable. */
import { randomUUID } from 'node:crypto';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from '../../lib/local/local-stack';
import { ensureTable } from '../../lib/store/table-definition';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface TestDynamoDb {
  local: DynamoDbLocal;
  client: DynamoDBClient;
  newTable(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestDynamoDb(
  options: { dataDir?: string; port?: number } = {},
): Promise<TestDynamoDb> {
  const local = await startDynamoDbLocal({
    port: options.port ?? (await freePort()),
    dataDir: options.dataDir,
  });
  const client = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: local.endpoint },
    { requestTimeoutMs: 30_000 }, // scans of big tables on a busy machine
  );
  return {
    local,
    client,
    async newTable() {
      const name = `test-${randomUUID()}`;
      await ensureTable(client, name);
      return name;
    },
    async stop() {
      client.destroy();
      await local.stop();
    },
  };
}

/** Every item of a table, page after page: tests only, to prove what was (not) written. */
export async function allItems(client: DynamoDBClient, tableName: string) {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
