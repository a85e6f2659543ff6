/**
 * The DynamoDB table as serverless.yml defines it, turned into CreateTable input, so DynamoDB
 * Local (npm start, tests) gets exactly the keys and indexes the deployed stack gets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';

export const PROJECT_ROOT = join(__dirname, '..');
const TABLE_RESOURCE = 'EventsTable';

/** The EventsTable resource's Properties, read from serverless.yml. */
function tableProperties(
  serverlessYml = join(PROJECT_ROOT, 'serverless.yml'),
): Record<string, unknown> {
  const doc = parse(readFileSync(serverlessYml, 'utf8'), { logLevel: 'silent' }) as {
    resources?: { Resources?: Record<string, { Properties?: Record<string, unknown> }> };
  };
  const props = doc.resources?.Resources?.[TABLE_RESOURCE]?.Properties;
  if (!props)
    throw new Error(`serverless.yml has no resources.Resources.${TABLE_RESOURCE}.Properties`);
  return props;
}

export function tableDefinition(
  tableName: string,
  serverlessYml?: string,
): CreateTableCommandInput {
  const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode } = tableProperties(
    serverlessYml,
  ) as unknown as CreateTableCommandInput;
  return {
    TableName: tableName,
    AttributeDefinitions,
    KeySchema,
    GlobalSecondaryIndexes,
    BillingMode,
  };
}

/** Creates the table (with its TTL setting) unless it exists; true when it was created. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return false;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
  const ttl = tableProperties().TimeToLiveSpecification as
    { AttributeName: string; Enabled: boolean } | undefined;
  if (ttl?.Enabled) {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: ttl }),
    );
  }
  return true;
}
