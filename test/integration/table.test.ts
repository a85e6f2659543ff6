/** DynamoDB Local's table is made from serverless.yml's EventsTable, TTL included. */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { ensureTable } from '../../lib/store/table-definition';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(() => db?.stop());

it('creates the table with its keys, index and TTL on expiresAt, once', async () => {
  const tableName = await db.newTable();
  const { Table } = await db.client.send(new DescribeTableCommand({ TableName: tableName }));
  expect(Table?.KeySchema).toEqual([
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ]);
  expect(
    Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.Projection?.ProjectionType]).sort(),
  ).toEqual([
    ['byTime', 'KEYS_ONLY'],
    ['byType', 'KEYS_ONLY'],
  ]);
  const { TimeToLiveDescription } = await db.client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  expect(TimeToLiveDescription).toEqual({
    AttributeName: 'expiresAt',
    TimeToLiveStatus: 'ENABLED',
  });
  expect(await ensureTable(db.client, tableName)).toBe(false);
});

it('ends with the table when CreateTable answers ResourceInUseException (a retried or concurrent create)', async () => {
  const tableName = await db.newTable();
  // What a CreateTable retried after a timed-out first attempt meets: the table is there, though
  // DescribeTable said it was not a moment before. Timing a real server cannot give on demand.
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.local.endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'DescribeTableCommand') {
        client.middlewareStack.remove('notYetThere');
        throw new ResourceNotFoundException({ message: 'not yet', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: 'notYetThere' },
  );
  try {
    expect(await ensureTable(client, tableName)).toBe(false);
  } finally {
    client.destroy();
  }
});
