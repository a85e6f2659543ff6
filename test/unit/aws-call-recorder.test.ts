/**
 * The AWS call recorder (lib/aws/call-recorder.ts) and the check the test run ends with
 * (deploy/check/permissions.ts unlistedCalls, run by test/helpers/aws-calls-global-teardown.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsCallRecord, AWS_CALL_LOG } from '../../lib/aws/call-recorder';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import { getParameters } from '../../lib/secrets';
import { loadManifest, unlistedCalls } from '../../deploy/check/permissions';

const saved = { ...process.env };
let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aws-calls-'));
  log = join(dir, 'calls.jsonl');
  Object.assign(process.env, {
    [AWS_CALL_LOG]: log,
    AWS_LAMBDA_FUNCTION_NAME: 'okta-event-hooks-local-receive',
    STAGE: 'local',
    EVENTS_TABLE: 'okta-events-local',
    SECRETS_PATH: '/okta-event-hooks/local',
  });
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});
const recorded = () =>
  readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AwsCallRecord);

/** Nothing listens there: the call fails after the recorder saw it. */
const CLOSED = { region: 'us-east-1', dynamodbEndpoint: 'http://127.0.0.1:9' };

it("records a DynamoDB call with the function, the IAM action, the table's ARN and the test", async () => {
  const client = createDynamoDbClient(CLOSED);
  await expect(
    client.send(new PutItemCommand({ TableName: 'okta-events-local', Item: {} })),
  ).rejects.toThrow();
  client.destroy();
  expect(recorded()).toEqual([
    expect.objectContaining({
      function: 'receive',
      action: 'dynamodb:PutItem',
      resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/okta-events-local',
      test: expect.stringContaining('aws-call-recorder.test.ts › records a DynamoDB call'),
    }),
  ]);
});

it('records the signed SSM request, one parameter ARN per name', async () => {
  await expect(
    getParameters({ region: 'us-east-1', ssmEndpoint: 'http://127.0.0.1:9' }, [
      '/okta-event-hooks/local/okta-auth-secret',
    ]),
  ).rejects.toThrow();
  expect(recorded().map((r) => [r.action, r.resource])).toContainEqual([
    'ssm:GetParameters',
    'arn:aws:ssm:us-east-1:000000000000:parameter/okta-event-hooks/local/okta-auth-secret',
  ]);
});

it('adds no middleware when recording is off', () => {
  delete process.env[AWS_CALL_LOG];
  const client = createDynamoDbClient(CLOSED);
  expect(client.middlewareStack.identify().join()).not.toContain('awsCallRecorder');
  client.destroy();
});

describe('the check at the end of the test run', () => {
  const vars = {
    stage: 'local',
    table: 'okta-events-local',
    secretsPath: '/okta-event-hooks/local',
    eventBus: '',
  };
  const call = (fn: string | null, action: string, resource: string): AwsCallRecord => ({
    function: fn,
    service: action.split(':')[0]!,
    action,
    resource,
    test: 'test/e2e/offline.test.ts',
    vars,
  });
  const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/okta-events-local';

  it('passes the calls deploy/permissions.json lists', () => {
    expect(
      unlistedCalls(
        [
          call('receive', 'dynamodb:PutItem', table),
          call('readApi', 'dynamodb:Query', `${table}/index/byTime`),
          call(
            'verify',
            'ssm:GetParameters',
            'arn:aws:ssm:us-east-1:000000000000:parameter/okta-event-hooks/local/okta-auth-secret',
          ),
        ],
        loadManifest(),
      ),
    ).toEqual([]);
  });

  it('names function, action, resource and test of a call the manifest does not list', () => {
    expect(
      unlistedCalls(
        [
          call('receive', 'dynamodb:DescribeTable', table),
          call('readApi', 'dynamodb:Query', `${table}/index/byOther`),
        ],
        loadManifest(),
      ),
    ).toEqual([
      `receive: dynamodb:DescribeTable on ${table} is not in deploy/permissions.json; made by test/e2e/offline.test.ts`,
      `readApi: dynamodb:Query on ${table}/index/byOther (not among its resources) is not in deploy/permissions.json; made by test/e2e/offline.test.ts`,
    ]);
  });

  it('leaves calls of no function alone (CLIs, scripts, test set-up: no deployed role makes them)', () => {
    expect(unlistedCalls([call(null, 'dynamodb:CreateTable', table)], loadManifest())).toEqual([]);
  });
});
