/**
 * `serverless package` for staging and production, as `serverless deploy` would upload them,
 * built without AWS credentials: the template's hardening (table, least-privilege roles,
 * throttling, alarms, outputs) and no secret from the build environment in any packaged file.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/store/table-definition';
import { run } from '../helpers/run';
import { unzip } from '../helpers/zip';

interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, unknown>;
  Outputs: Record<string, { Value: unknown }>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface Packaged {
  out: string;
  template: Template;
  /** Every packaged file by path, zips opened: `receive.zip!handlers/receive.js`. */
  files: Map<string, Buffer>;
  seconds: number;
}

/** A distinct value for every variable a secret could be taken from at build time. */
const CANARIES = {
  OKTA_AUTH_SECRET: 'canary-okta-7f3a9c',
  HOOKDECK_SIGNING_SECRET: 'canary-hookdeck-51be02',
  EVENTS_API_TOKEN: 'canary-token-c4d9e1',
  AWS_SECRET_ACCESS_KEY: 'canary-aws-secret-0a8f3b',
  AWS_SESSION_TOKEN: 'canary-aws-session-9e2c4d',
};
const ALARM_EMAIL = 'oncall@example.com';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file under `dirs`, with each zip's entries as files of their own. */
function readAll(dirs: string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const path of dirs.flatMap(filesUnder)) {
    const content = readFileSync(path);
    files.set(path, content);
    if (path.endsWith('.zip'))
      for (const [name, data] of unzip(content)) files.set(`${path}!${name}`, data);
  }
  return files;
}

async function packageStage(stage: string, env: NodeJS.ProcessEnv): Promise<Packaged> {
  const out = mkdtempSync(join(tmpdir(), `okta-hooks-${stage}-`));
  const workFolder = `.esbuild/package-${stage}-${process.pid}`;
  const started = performance.now();
  const result = await run(
    [
      join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'),
      'package',
      '--stage',
      stage,
      '--package',
      out,
    ],
    { ...env, ESBUILD_WORK_FOLDER: workFolder, SLS_TELEMETRY_DISABLED: '1' },
  );
  const seconds = (performance.now() - started) / 1000;
  // The build folder is searched too: it is what the zips were made from.
  const files = readAll([out, join(PROJECT_ROOT, workFolder), join(PROJECT_ROOT, '.serverless')]);
  rmSync(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
  expect({ stage, code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
  const template = JSON.parse(
    readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return { out, template, files, seconds };
}

const packaged: Record<string, Packaged> = {};
const STAGES = ['staging', 'production'] as const;

beforeAll(async () => {
  // One after the other: packaging individual functions writes their zips to the shared
  // .serverless/ folder, so two packages at once remove each other's files.
  packaged.staging = await packageStage('staging', {
    ALARM_EMAIL,
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
  });
  packaged.production = await packageStage('production', {
    ...CANARIES,
    ALARM_EMAIL: '',
    AWS_ACCESS_KEY_ID: 'AKIDCANARY',
  });
}, 240_000);
afterAll(() => {
  for (const { out } of Object.values(packaged)) rmSync(out, { recursive: true, force: true });
});

function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

it('writes no secret of the build environment into any packaged file, zips opened', () => {
  const { files } = packaged.production!;
  const names = [...files.keys()];
  expect(names.filter((n) => n.includes('.zip!')).sort()).toEqual([
    expect.stringMatching(/readApi\.zip!handlers\/read-api\.js$/),
    expect.stringMatching(/readApi\.zip!handlers\/read-api\.js\.map$/),
    expect.stringMatching(/receive\.zip!handlers\/receive\.js$/),
    expect.stringMatching(/receive\.zip!handlers\/receive\.js\.map$/),
    expect.stringMatching(/store\.zip!handlers\/store\.js$/),
    expect.stringMatching(/store\.zip!handlers\/store\.js\.map$/),
    expect.stringMatching(/ui\.zip!handlers\/ui\.js$/),
    expect.stringMatching(/ui\.zip!handlers\/ui\.js\.map$/),
    expect.stringMatching(/verify\.zip!handlers\/verify\.js$/),
    expect.stringMatching(/verify\.zip!handlers\/verify\.js\.map$/),
  ]);
  // The search can fail: code text is found in the opened zip, not in the compressed bytes.
  const zipPath = names.find((n) => n.endsWith('receive.zip'))!;
  const code = files.get(`${zipPath}!handlers/receive.js`)!;
  expect(code.includes('attribute_not_exists(pk)')).toBe(true);
  expect(files.get(zipPath)!.includes('attribute_not_exists(pk)')).toBe(false);

  const leaks = [...files].flatMap(([file, content]) =>
    Object.entries(CANARIES)
      .filter(([, canary]) => content.includes(canary))
      .map(([variable]) => `${variable} in ${file}`),
  );
  expect(leaks).toEqual([]);
});

it('keeps the DynamoDB client out of the verify and ui bundles (they touch no data; cold start)', () => {
  const { files } = packaged.production!;
  const code = (fn: string) => [...files].find(([name]) => name.endsWith(`!handlers/${fn}.js`))![1];
  // Only the DynamoDB client carries its JSON protocol's target prefix.
  expect(code('receive').includes('DynamoDB_20120810')).toBe(true);
  expect(code('verify').includes('DynamoDB_20120810')).toBe(false);
  expect(code('ui').includes('DynamoDB_20120810')).toBe(false);
});

it('builds the event browser into the ui bundle: page, script and style, nothing fetched elsewhere', () => {
  const { files } = packaged.production!;
  const ui = [...files].find(([name]) => name.endsWith('!handlers/ui.js'))![1].toString();
  expect(ui).toContain('<title>Okta events</title>');
  expect(ui).toContain('text/javascript; charset=utf-8');
  expect(ui).toContain('sign-in-form'); // the page's script, bundled in
  expect(ui).toContain("frame-ancestors 'none'");
});

it.each(STAGES)(
  '%s: functions on nodejs22.x/arm64, minified, environment holding names only',
  (stage) => {
    const { template, files } = packaged[stage]!;
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'ReadApiLambdaFunction',
      'ReceiveLambdaFunction',
      'StoreLambdaFunction',
      'UiLambdaFunction',
      'VerifyLambdaFunction',
    ]);
    for (const [id, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        // The store function is off Okta's clock; the HTTP functions answer within 3 s.
        Timeout: id === 'StoreLambdaFunction' ? 120 : 6,
        Environment: {
          Variables: {
            STAGE: stage,
            EVENTS_TABLE: `okta-events-${stage}`,
            SECRETS_PATH: `/okta-event-hooks/${stage}`,
            NODE_OPTIONS: '--enable-source-maps',
            OKTA_AUTH_HEADER: 'authorization',
            RETENTION_DAYS: '90',
          },
        },
      });
      const variables = Object.keys(
        (fn.Properties.Environment as { Variables: object }).Variables,
      ).sort();
      expect(variables).toEqual([
        'EVENTS_TABLE',
        'NODE_OPTIONS',
        'OKTA_AUTH_HEADER',
        'RETENTION_DAYS',
        'SECRETS_PATH',
        'STAGE',
      ]);
    }
    // Minified (tens of lines where the plain bundle has over ten thousand), with its source map.
    const bundle = [...files].find(([name]) => name.endsWith('!handlers/receive.js'))![1];
    expect(bundle.toString().split('\n').length).toBeLessThan(200);
    expect(bundle.toString().trimEnd()).toMatch(/\/\/# sourceMappingURL=receive\.js\.map$/);
    const retention = resourcesOfType(template, 'AWS::Logs::LogGroup').map(
      ([, r]) => r.Properties.RetentionInDays,
    );
    expect(retention).toEqual(Array(5).fill(stage === 'production' ? 90 : 14));
  },
);

it.each(STAGES)(
  '%s: the store function reads the table stream with partial failures, bisect, bounded retries and an on-failure queue',
  (stage) => {
    const { template } = packaged[stage]!;
    expect(template.Resources.EventsTable!.Properties.StreamSpecification).toEqual({
      StreamViewType: 'NEW_IMAGE',
    });
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['EventsTable', 'StreamArn'] },
      FunctionName: { 'Fn::GetAtt': ['StoreLambdaFunction', 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': ['StoreFailuresQueue', 'Arn'] } },
      },
    });
    const filters = (
      mappings[0]![1].Properties.FilterCriteria as { Filters: { Pattern: string }[] }
    ).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: ['DELIVERY'] } } } },
    ]);
    expect(template.Resources.StoreFailuresQueue!.Properties).toMatchObject({
      QueueName: `okta-event-hooks-${stage}-store-failures`,
      SqsManagedSseEnabled: true,
    });
  },
);

it.each(STAGES)('%s: the table is hardened and named for the stage', (stage) => {
  const table = packaged[stage]!.template.Resources.EventsTable!;
  expect(table.Properties).toMatchObject({
    TableName: `okta-events-${stage}`,
    BillingMode: 'PAY_PER_REQUEST',
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    SSESpecification: { SSEEnabled: true },
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    DeletionProtectionEnabled: stage === 'production',
  });
  const policy = stage === 'production' ? 'Retain' : 'Delete';
  expect(table).toMatchObject({ DeletionPolicy: policy, UpdateReplacePolicy: policy });
});

function statementsOf(role: Resource): Statement[] {
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}
const asList = (value: unknown) => (Array.isArray(value) ? value : [value]);
const ssmArn = (stage: string, name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/okta-event-hooks/${stage}/${name}`,
});

it.each(STAGES)('%s: each function has its own role with only what it uses', (stage) => {
  const { template } = packaged[stage]!;
  const roleOf = (fn: string) => {
    const role = template.Resources[fn]!.Properties.Role as { 'Fn::GetAtt': [string, string] };
    return statementsOf(template.Resources[role['Fn::GetAtt'][0]]!);
  };
  const withoutLogs = (statements: Statement[]) =>
    statements.filter((s) => !asList(s.Action).every((a: string) => a.startsWith('logs:')));
  const secrets = {
    Effect: 'Allow',
    Action: ['ssm:GetParameters'],
    Resource: [ssmArn(stage, 'okta-auth-secret'), ssmArn(stage, 'hookdeck-signing-secret')],
  };
  expect(withoutLogs(roleOf('VerifyLambdaFunction'))).toEqual([secrets]);
  expect(withoutLogs(roleOf('ReceiveLambdaFunction'))).toEqual([
    secrets,
    {
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }],
    },
  ]);
  expect(withoutLogs(roleOf('StoreLambdaFunction'))).toEqual([
    {
      Effect: 'Allow',
      Action: [
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:DescribeStream',
        'dynamodb:ListStreams',
      ],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'StreamArn'] }],
    },
    {
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchWriteItem',
      ],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }],
    },
    {
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [{ 'Fn::GetAtt': ['StoreFailuresQueue', 'Arn'] }],
    },
  ]);
  const index = (name: string) => ({
    'Fn::Join': ['', [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }, `/index/${name}`]],
  });
  expect(withoutLogs(roleOf('ReadApiLambdaFunction'))).toEqual([
    {
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [ssmArn(stage, 'events-api-token')],
    },
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }, index('byTime'), index('byType')],
    },
  ]);
  // The event browser's function serves files and signs sessions: the token, no data.
  expect(withoutLogs(roleOf('UiLambdaFunction'))).toEqual([
    {
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [ssmArn(stage, 'events-api-token')],
    },
  ]);

  // No wildcard anywhere but in log-group ARNs, in any role of the stack.
  for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
    for (const statement of statementsOf(role)) {
      const actions = asList(statement.Action) as string[];
      expect({ id, actions: actions.filter((a) => a.includes('*')) }).toEqual({ id, actions: [] });
      if (actions.every((a) => a.startsWith('logs:'))) {
        expect(JSON.stringify(statement.Resource)).toMatch(/:log-group:\/aws\/lambda\//);
      } else {
        expect({ id, resource: JSON.stringify(statement.Resource).includes('*') }).toEqual({
          id,
          resource: false,
        });
      }
    }
  }
});

it.each(STAGES)('%s: routes, throttling and outputs', (stage) => {
  const { template } = packaged[stage]!;
  const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
    .map(([, r]) => r.Properties.RouteKey)
    .sort();
  expect(routes).toEqual([
    'DELETE /ui/session',
    'GET /deliveries',
    'GET /deliveries/{id}',
    'GET /deliveries/{id}/events',
    'GET /event-counts',
    'GET /event-types',
    'GET /events',
    'GET /events/{uuid}',
    'GET /events/{uuid}/deliveries',
    'GET /okta-webhooks-endpoint',
    'GET /ui',
    'GET /ui/assets/{file}',
    'GET /ui/session',
    'POST /okta-webhooks-endpoint',
    'POST /ui/session',
  ]);
  expect(template.Resources.HttpApi!.Properties.Name).toBe(`${stage}-okta-event-hooks`);
  expect(template.Resources.HttpApiStage!.Properties.DefaultRouteSettings).toEqual(
    stage === 'production'
      ? { DetailedMetricsEnabled: false, ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }
      : { DetailedMetricsEnabled: false, ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
  );
  const endpoint = { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] };
  expect(template.Outputs.WebhookUrl!.Value).toEqual({
    'Fn::Join': ['', [endpoint, '/okta-webhooks-endpoint']],
  });
  expect(template.Outputs.ReadApiUrl!.Value).toEqual(endpoint);
  expect(template.Outputs.EventBrowserUrl!.Value).toEqual({ 'Fn::Join': ['', [endpoint, '/ui']] });
});

it.each(STAGES)('%s: alarms on 5xx, function errors and throttles, table throttles', (stage) => {
  const { template } = packaged[stage]!;
  const alarms = Object.fromEntries(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
  expect(Object.keys(alarms).sort()).toEqual([
    'Api5xxAlarm',
    'EventsTableSystemErrorsAlarm',
    'EventsTableThrottleAlarm',
    'ReadApiLambdaFunctionErrorsAlarm',
    'ReadApiLambdaFunctionThrottlesAlarm',
    'ReceiveLambdaFunctionErrorsAlarm',
    'ReceiveLambdaFunctionThrottlesAlarm',
    'StoreFailuresAlarm',
    'StoreIteratorAgeAlarm',
    'StoreLambdaFunctionErrorsAlarm',
    'StoreLambdaFunctionThrottlesAlarm',
    'UiLambdaFunctionErrorsAlarm',
    'UiLambdaFunctionThrottlesAlarm',
    'VerifyLambdaFunctionErrorsAlarm',
    'VerifyLambdaFunctionThrottlesAlarm',
  ]);
  for (const alarm of Object.values(alarms)) {
    expect(alarm.Properties).toMatchObject({
      AlarmName: expect.stringMatching(new RegExp(`^okta-event-hooks-${stage}-`)),
      AlarmActions: [{ Ref: 'AlarmTopic' }],
      TreatMissingData: 'notBreaching',
    });
  }
  expect(alarms.Api5xxAlarm!.Properties).toMatchObject({
    Namespace: 'AWS/ApiGateway',
    MetricName: '5xx',
    Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
  });
  expect(alarms.ReceiveLambdaFunctionErrorsAlarm!.Properties).toMatchObject({
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ReceiveLambdaFunction' } }],
  });
  expect(alarms.EventsTableThrottleAlarm!.Properties).toMatchObject({
    Namespace: 'AWS/DynamoDB',
    MetricName: 'WriteThrottleEvents',
  });
  expect(template.Resources.AlarmTopic!.Properties.TopicName).toBe(
    `okta-event-hooks-${stage}-alarms`,
  );
});

it('subscribes the alarm e-mail only when ALARM_EMAIL is set', () => {
  const subscription = (stage: string) =>
    packaged[stage]!.template.Resources.AlarmEmailSubscription!;
  expect(subscription('staging')).toMatchObject({
    Condition: 'HasAlarmEmail',
    Properties: { Protocol: 'email', Endpoint: ALARM_EMAIL, TopicArn: { Ref: 'AlarmTopic' } },
  });
  // CloudFormation evaluates the condition: "" equals "" in production here, so no subscription.
  expect(packaged.staging!.template.Conditions).toEqual({
    HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': [ALARM_EMAIL, ''] }] },
  });
  expect(packaged.production!.template.Conditions).toEqual({
    HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] },
  });
});
