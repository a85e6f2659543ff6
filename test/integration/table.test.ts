/** DynamoDB Local's table is made from serverless.yml's EventsTable, TTL included. */
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
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

it('survives its own CreateTable being retried after a timed-out first attempt (a busy machine)', async () => {
  const tableName = `test-retried-${Date.now()}`;
  // What the SDK does when the first CreateTable outlives the request timeout but DynamoDB
  // Local still made the table: it sends it again, and the second answer is ResourceInUse.
  const retrying = {
    send: async (command: { constructor: { name: string } }) => {
      if (command.constructor.name === 'CreateTableCommand') {
        await db.client.send(command as never);
      }
      return db.client.send(command as never);
    },
  } as unknown as typeof db.client;
  expect(await ensureTable(retrying, tableName)).toBe(true);
  const { Table } = await db.client.send(new DescribeTableCommand({ TableName: tableName }));
  expect(Table?.TableStatus).toBe('ACTIVE');
});
