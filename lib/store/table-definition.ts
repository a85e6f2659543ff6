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
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type TimeToLiveSpecification,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';

export const PROJECT_ROOT = join(__dirname, '..', '..');
const TABLE_RESOURCE = 'EventsTable';

export interface TableDefinition {
  createTable: CreateTableCommandInput;
  /** CreateTable cannot enable TTL: it takes a separate UpdateTimeToLive. */
  timeToLive: TimeToLiveSpecification | undefined;
}

export function tableDefinition(
  tableName: string,
  serverlessYml = join(PROJECT_ROOT, 'serverless.yml'),
): TableDefinition {
  const doc = parse(readFileSync(serverlessYml, 'utf8'), { logLevel: 'silent' }) as {
    resources?: { Resources?: Record<string, { Properties?: Record<string, unknown> }> };
  };
  const props = doc.resources?.Resources?.[TABLE_RESOURCE]?.Properties;
  if (!props)
    throw new Error(`serverless.yml has no resources.Resources.${TABLE_RESOURCE}.Properties`);
  const {
    AttributeDefinitions,
    KeySchema,
    GlobalSecondaryIndexes,
    BillingMode,
    StreamSpecification,
  } = props as unknown as CreateTableCommandInput;
  return {
    createTable: {
      TableName: tableName,
      AttributeDefinitions,
      KeySchema,
      GlobalSecondaryIndexes,
      BillingMode,
      // CloudFormation's StreamSpecification has only the view type; CreateTable wants both.
      ...(StreamSpecification
        ? {
            StreamSpecification: {
              StreamEnabled: true,
              StreamViewType: StreamSpecification.StreamViewType,
            },
          }
        : {}),
    },
    timeToLive: props.TimeToLiveSpecification as TimeToLiveSpecification | undefined,
  };
}

/**
 * Creates the table unless it exists, then enables TTL as defined (also on a table made before
 * TTL was defined, e.g. an existing `.dynamodb/`); true when the table was created.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const definition = tableDefinition(tableName);
  let created = false;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const stream = definition.createTable.StreamSpecification;
    // A table made before the stream was defined (an existing .dynamodb/) gets it now.
    if (stream && !Table?.StreamSpecification?.StreamEnabled) {
      await client.send(
        new UpdateTableCommand({ TableName: tableName, StreamSpecification: stream }),
      );
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(definition.createTable));
    } catch (createError) {
      // The SDK retried a CreateTable that timed out on a busy DynamoDB Local after making the
      // table: the retry finds it. Waiting below confirms it is there.
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
    created = true;
  }
  const ttl = definition.timeToLive;
  if (ttl?.Enabled) {
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    if (TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: ttl }),
      );
    }
  }
  return created;
}
