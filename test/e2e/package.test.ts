/**
 * `serverless package` for staging and production, as `serverless deploy` would upload them,
 * built without AWS credentials: the template's hardening (table, least-privilege roles,
 * throttling, alarms, access log, deployment bucket, outputs), no secret from the build
 * environment in any packaged file, and the stage's shape from serverless.yml, not the shell.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalise } from '../../deploy/check/stage-diff';
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
  OKTA_API_TOKEN: 'canary-okta-api-token-6b1e0f',
  OKTA_PRIVATE_KEY: 'canary-okta-private-key-2d8a47',
  FORWARD_SECRET: 'whsec_Y2FuYXJ5LWZvcndhcmQtN2UxYjJj',
  AWS_SECRET_ACCESS_KEY: 'canary-aws-secret-0a8f3b',
  AWS_SESSION_TOKEN: 'canary-aws-session-9e2c4d',
};
/** Staging's committed settings (serverless.yml params.staging) turn every integration on. */
const ALARM_EMAIL = 'oncall@example.com';
const OKTA_ORG_URL = 'https://acme.example.com';
/** Settings a deploying shell might hold: none may change a deployed stage's template. */
const SHELL_SETTINGS = {
  EVENT_BRIDGE: 'true',
  OKTA_ORG_URL: 'https://other.okta.com',
  ALARM_EMAIL: 'x@example.com',
  FORWARD_URL: 'https://example.com/hook',
  WEBHOOK_PATH: '/other',
  OKTA_CLIENT_ID: '0oaother',
  FORWARD_TYPES: 'group.*',
  RETENTION_DAYS: '7',
};

const REACT_VARIABLES = ['EVENT_BUS_NAME', 'FORWARD_TYPES', 'FORWARD_URL', 'REACTIONS'];
/** The read API's and the event browser's settings for Okta sign-in and access tokens. */
const SIGN_IN_VARIABLES: Record<string, string[]> = {
  ReadApiLambdaFunction: [
    'OKTA_ISSUER',
    'OKTA_UI_CLIENT_ID',
    'OKTA_API_AUDIENCE',
    'OKTA_API_SCOPES',
    'OKTA_API_GROUPS',
    'OKTA_API_CLIENT_IDS',
    'READ_API_STATIC_TOKENS',
  ],
  UiLambdaFunction: ['OKTA_ISSUER', 'OKTA_UI_CLIENT_ID', 'OKTA_UI_GROUPS', 'UI_TOKEN_SIGN_IN'],
};

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
/** Production packaged from a shell holding none of the settings. */
let productionFromCleanShell: Packaged;

beforeAll(async () => {
  // One after the other: packaging individual functions writes their zips to the shared
  // .serverless/ folder, so two packages at once remove each other's files.
  packaged.staging = await packageStage('staging', {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
  });
  packaged.production = await packageStage('production', {
    ...CANARIES,
    ...SHELL_SETTINGS,
    AWS_ACCESS_KEY_ID: 'AKIDCANARY',
  });
  productionFromCleanShell = await packageStage('production', {});
}, 300_000);
afterAll(() => {
  for (const { out } of [...Object.values(packaged), productionFromCleanShell])
    if (out) rmSync(out, { recursive: true, force: true });
});

it("builds production from serverless.yml alone: the shell's settings change nothing", () => {
  // Only the upload folder (a timestamp per package) may differ.
  expect(normalise(packaged.production!.template)).toEqual(
    normalise(productionFromCleanShell.template),
  );
});

it.each([
  [
    { EVENT_BRIDGE: 'maybe' },
    'EVENT_BRIDGE (params eventBridge) is "maybe": allowed values are true, false',
  ],
  [
    { EVENT_BRIDGE: 'TRUE' },
    'EVENT_BRIDGE (params eventBridge) is "TRUE": allowed values are true, false',
  ],
  [
    { RETENTION_DAYS: 'ninety' },
    'RETENTION_DAYS (params retentionDays) is "ninety": allowed values are a whole number of days (0: keep forever)',
  ],
])(
  'the local stage refuses %j with one line naming the setting and its allowed values',
  async (env, line) => {
    const result = await run(
      [join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'), 'print'],
      { ...env, SLS_TELEMETRY_DISABLED: '1' },
    );
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual(expect.arrayContaining(['Error:', line]));
  },
  60_000,
);

it.each([
  [
    [],
    'The local stage is for npm start and the tests only, never deployed: add --stage staging or --stage production.',
    {},
  ],
  [
    [],
    'The local stage is for npm start and the tests only, never deployed: add --stage staging or --stage production.',
    // The local stage reads SSM when SECRETS_PATH is set (the stage-rotation test): still never packaged.
    { SECRETS_PATH: '/okta-event-hooks/staging' },
  ],
  [
    ['--stage', 'prod'],
    'Stage "prod" has no params.prod.secretsPath in serverless.yml: add one (see docs/deploying.md) or use --stage staging or --stage production.',
    {},
  ],
])(
  'refuses to package %j %j (the local stage, or no secrets path: the stack would run open or refuse everything) with one line',
  async (args, line, env) => {
    const out = mkdtempSync(join(tmpdir(), 'okta-hooks-undeployable-'));
    try {
      const result = await run(
        [
          join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'),
          'package',
          ...args,
          '--package',
          out,
        ],
        {
          ESBUILD_WORK_FOLDER: `.esbuild/package-undeployable-${process.pid}`,
          SLS_TELEMETRY_DISABLED: '1',
          ...env,
        },
      );
      expect(result.code).toBe(1);
      // osls prints its errors on stdout, as "Error:" and the message.
      expect(result.stdout.split('\n')).toEqual(expect.arrayContaining(['Error:', line]));
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
  60_000,
);

function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

it('writes no secret of the build environment into any packaged file, zips opened', () => {
  const { files } = packaged.production!;
  const names = [...files.keys()];
  expect(names.filter((n) => n.includes('.zip!')).sort()).toEqual([
    expect.stringMatching(/react\.zip!handlers\/react\.js$/),
    expect.stringMatching(/react\.zip!handlers\/react\.js\.map$/),
    expect.stringMatching(/readApi\.zip!handlers\/read-api\.js$/),
    expect.stringMatching(/readApi\.zip!handlers\/read-api\.js\.map$/),
    expect.stringMatching(/receive\.zip!handlers\/receive\.js$/),
    expect.stringMatching(/receive\.zip!handlers\/receive\.js\.map$/),
    expect.stringMatching(/reconcile\.zip!handlers\/reconcile\.js$/),
    expect.stringMatching(/reconcile\.zip!handlers\/reconcile\.js\.map$/),
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

it('keeps the DynamoDB client out of the verify bundle (it touches no data; cold start)', () => {
  const { files } = packaged.production!;
  const code = (fn: string) => [...files].find(([name]) => name.endsWith(`!handlers/${fn}.js`))![1];
  // Only the DynamoDB client carries its JSON protocol's target prefix.
  expect(code('receive').includes('DynamoDB_20120810')).toBe(true);
  expect(code('verify').includes('DynamoDB_20120810')).toBe(false);
  // The ui function records signed-out sessions (lib/store/session-revocations.ts).
  expect(code('ui').includes('DynamoDB_20120810')).toBe(true);
});

it('builds the event browser into the ui bundle: page, script and style, nothing fetched elsewhere', () => {
  const { files } = packaged.production!;
  const ui = [...files].find(([name]) => name.endsWith('!handlers/ui.js'))![1].toString();
  expect(ui).toContain('<title>Okta events</title>');
  expect(ui).toContain('text/javascript; charset=utf-8');
  expect(ui).toContain('sign-in-form'); // the page's script, bundled in
  expect(ui).toContain("frame-ancestors 'none'");
});

it('bundles no SSM client: secrets are read with one signed call (cold start)', () => {
  const { files } = packaged.production!;
  const bundles = [...files].filter(([name]) => /!handlers\/[\w-]+\.js$/.test(name));
  expect(bundles).toHaveLength(7); // verify, receive, store, react, reconcile, readApi, ui
  // Only the SDK's SSM client carries its service namespace; our call names its target.
  const withClient = bundles.filter(([, code]) => code.includes('com.amazonaws.ssm'));
  expect(withClient.map(([name]) => name)).toEqual([]);
  // Every function that reads secrets reads them this way; store reads none.
  const reading = bundles.filter(
    ([, code]) => code.includes('AmazonSSM.') && code.includes('"GetParameters"'),
  );
  expect(reading.map(([name]) => name.replace(/.*!handlers\//, '')).sort()).toEqual([
    'react.js',
    'read-api.js',
    'receive.js',
    'reconcile.js',
    'ui.js',
    'verify.js',
  ]);
});

it.each(STAGES)(
  '%s: functions on nodejs24.x/arm64, minified, environment holding names only',
  (stage) => {
    const { template, files } = packaged[stage]!;
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'ReactLambdaFunction',
      'ReadApiLambdaFunction',
      'ReceiveLambdaFunction',
      'ReconcileLambdaFunction',
      'StoreLambdaFunction',
      'UiLambdaFunction',
      'VerifyLambdaFunction',
    ]);
    const shared = {
      STAGE: stage,
      EVENTS_TABLE: `okta-events-${stage}`,
      SECRETS_PATH: `/okta-event-hooks/${stage}`,
      NODE_OPTIONS: '--enable-source-maps',
      OKTA_AUTH_HEADER: 'authorization',
      RETENTION_DAYS: '90',
    };
    // The reconciler's own settings: names and non-secret values only (the org's URL, the app's
    // client id); its token or private key are in SSM.
    const reconciler = {
      OKTA_ORG_URL: stage === 'staging' ? OKTA_ORG_URL : '',
      OKTA_CLIENT_ID: stage === 'staging' ? '0oaservicereconciler' : '',
      OKTA_KEY_ID: '',
      OKTA_EVENT_HOOK_ID: '',
      OKTA_EVENT_TYPES:
        stage === 'staging'
          ? 'user.lifecycle.create,user.lifecycle.deactivate,user.session.start'
          : '',
      SYSTEM_LOG_LOOKBACK_HOURS: '24',
      SYSTEM_LOG_RATE_LIMIT_SHARE: '0.5',
    };
    // Off Okta's clock: the stream functions (store, react) and the reconciler (schedule, under its
    // 5 minutes); the HTTP functions answer within 3 s.
    const timeouts: Record<string, number> = {
      StoreLambdaFunction: 120,
      ReactLambdaFunction: 120,
      ReconcileLambdaFunction: 240,
    };
    for (const [id, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: timeouts[id] ?? 6,
      });
      const variables = (fn.Properties.Environment as { Variables: Record<string, string> })
        .Variables;
      if (id === 'ReactLambdaFunction') {
        // The react function also has its reactions' settings (FORWARD_SECRET is in SSM).
        expect(variables).toMatchObject(shared);
        expect(Object.keys(variables).sort()).toEqual(
          [...Object.keys(shared), ...REACT_VARIABLES].sort(),
        );
        continue;
      }
      const signIn = SIGN_IN_VARIABLES[id];
      if (signIn) {
        // Sign in with Okta's settings (the client secret is in SSM).
        expect(variables).toMatchObject(shared);
        expect(Object.keys(variables).sort()).toEqual([...Object.keys(shared), ...signIn].sort());
        continue;
      }
      expect(variables).toEqual(
        id === 'ReconcileLambdaFunction' ? { ...shared, ...reconciler } : shared,
      );
    }
    const react = template.Resources.ReactLambdaFunction!.Properties.Environment as {
      Variables: Record<string, string>;
    };
    expect(react.Variables).toMatchObject(
      stage === 'staging'
        ? {
            EVENT_BUS_NAME: 'okta-event-hooks-staging',
            FORWARD_URL: 'https://hooks.example.com/okta',
            FORWARD_TYPES: 'user.lifecycle.*',
            REACTIONS: '',
          }
        : { EVENT_BUS_NAME: '', FORWARD_URL: '', FORWARD_TYPES: '*', REACTIONS: '' },
    );
    // Minified (tens of lines where the plain bundle has over ten thousand), with its source map.
    const bundle = [...files].find(([name]) => name.endsWith('!handlers/receive.js'))![1];
    expect(bundle.toString().split('\n').length).toBeLessThan(200);
    expect(bundle.toString().trimEnd()).toMatch(/\/\/# sourceMappingURL=receive\.js\.map$/);
    const retention = resourcesOfType(template, 'AWS::Logs::LogGroup').map(
      ([, r]) => r.Properties.RetentionInDays,
    );
    // Seven functions and the HTTP API's access log.
    expect(retention).toEqual(Array(8).fill(stage === 'production' ? 90 : 14));
  },
);

it.each(STAGES)(
  '%s: the store function reads the table stream with partial failures, bisect, bounded retries and an on-failure queue',
  (stage) => {
    const { template } = packaged[stage]!;
    expect(template.Resources.EventsTable!.Properties.StreamSpecification).toEqual({
      StreamViewType: 'NEW_IMAGE',
    });
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').filter(([id]) =>
      id.startsWith('Store'),
    );
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
      { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'CONTINUE#' }] } } } },
    ]);
    expect(template.Resources.StoreFailuresQueue!.Properties).toMatchObject({
      QueueName: `okta-event-hooks-${stage}-store-failures`,
      SqsManagedSseEnabled: true,
    });
  },
);

it.each(STAGES)(
  '%s: the react function reads event inserts and redrive requests, with partial failures, bisect, bounded retries and an on-failure queue',
  (stage) => {
    const { template } = packaged[stage]!;
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings.map(([id]) => id).sort()).toEqual([
      'ReactEventSourceMappingDynamodbEventsTable',
      'StoreEventSourceMappingDynamodbEventsTable',
    ]);
    const react = template.Resources.ReactEventSourceMappingDynamodbEventsTable!;
    expect(react.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['EventsTable', 'StreamArn'] },
      FunctionName: { 'Fn::GetAtt': ['ReactLambdaFunction', 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': ['ReactFailuresQueue', 'Arn'] } },
      },
    });
    const filters = (react.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: ['EVENT'] } } } },
      { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'REDRIVE#' }] } } } },
    ]);
    expect(template.Resources.ReactFailuresQueue!.Properties).toMatchObject({
      QueueName: `okta-event-hooks-${stage}-react-failures`,
      SqsManagedSseEnabled: true,
    });
    expect(template.Resources.ReactFailuresAlarm!.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': ['ReactFailuresQueue', 'QueueName'] } },
      ],
      Threshold: 1,
    });
  },
);

it.each(STAGES)(
  '%s: the EventBridge bus exists only where the eventBridge param is on',
  (stage) => {
    const { template } = packaged[stage]!;
    expect(template.Resources.EventBus).toEqual({
      Type: 'AWS::Events::EventBus',
      Condition: 'HasEventBus',
      Properties: { Name: `okta-event-hooks-${stage}` },
    });
    // CloudFormation evaluates the condition: params.staging.eventBridge is 'true'.
    expect(template.Conditions!.HasEventBus).toEqual({
      'Fn::Equals': [stage === 'staging' ? 'true' : 'false', 'true'],
    });
    expect(template.Outputs.EventBusName).toMatchObject({
      Condition: 'HasEventBus',
      Value: { Ref: 'EventBus' },
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
      Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
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
    {
      // IAM's ListStreams takes no resource: only '*' grants it (deploy/permissions.json).
      Effect: 'Allow',
      Action: ['dynamodb:ListStreams'],
      Resource: '*',
    },
  ]);
  expect(withoutLogs(roleOf('ReactLambdaFunction'))).toEqual([
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
      Action: ['ssm:GetParameters'],
      Resource: [ssmArn(stage, 'forward-secret')],
    },
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }],
    },
    {
      // The stage's own bus, nothing else (whether or not the param created it).
      Effect: 'Allow',
      Action: ['events:PutEvents'],
      Resource: [
        {
          'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/okta-event-hooks-${stage}`,
        },
      ],
    },
    {
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [{ 'Fn::GetAtt': ['ReactFailuresQueue', 'Arn'] }],
    },
    {
      // IAM's ListStreams takes no resource: only '*' grants it (deploy/permissions.json).
      Effect: 'Allow',
      Action: ['dynamodb:ListStreams'],
      Resource: '*',
    },
  ]);
  const index = (name: string) => ({
    'Fn::Join': ['', [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }, `/index/${name}`]],
  });
  expect(withoutLogs(roleOf('ReconcileLambdaFunction'))).toEqual([
    {
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [ssmArn(stage, 'okta-api-token'), ssmArn(stage, 'okta-private-key')],
    },
    {
      Effect: 'Allow',
      Action: [
        'dynamodb:PutItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        // The event-type registry write of the event store, on every page it stores.
        'dynamodb:UpdateItem',
      ],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }],
    },
  ]);
  expect(withoutLogs(roleOf('ReadApiLambdaFunction'))).toEqual([
    {
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [ssmArn(stage, 'events-api-token'), ssmArn(stage, 'okta-ui-client-secret')],
    },
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }, index('byTime'), index('byType')],
    },
  ]);
  // The event browser's function serves files and signs sessions: the token or the Okta web
  // app's client secret, and the session items (lib/store/session-revocations.ts), no events.
  expect(withoutLogs(roleOf('UiLambdaFunction'))).toEqual([
    {
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [ssmArn(stage, 'events-api-token'), ssmArn(stage, 'okta-ui-client-secret')],
    },
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }],
    },
  ]);

  // The framework's shared role, used by no function, holds log permissions only.
  expect(withoutLogs(statementsOf(template.Resources.IamRoleLambdaExecution!))).toEqual([]);

  // No wildcard anywhere but in log-group ARNs (and ListStreams, which takes no resource).
  for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
    for (const statement of statementsOf(role)) {
      const actions = asList(statement.Action) as string[];
      if (actions.join() === 'dynamodb:ListStreams' && asList(statement.Resource).join() === '*')
        continue;
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
    'GET /events/{uuid}/reactions',
    'GET /okta-webhooks-endpoint',
    'GET /reactions',
    'GET /ui',
    'GET /ui/assets/{file}',
    'GET /ui/callback',
    'GET /ui/login',
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
    'EventsRecoveredAlarm',
    'EventsTableSystemErrorsAlarm',
    'EventsTableThrottleAlarm',
    'ReactEventSourceMappingDynamodbEventsTableFailedRecordsAlarm',
    'ReactFailuresAlarm',
    'ReactIteratorAgeAlarm',
    'ReactLambdaFunctionErrorsAlarm',
    'ReactLambdaFunctionThrottlesAlarm',
    'ReadApiLambdaFunctionErrorsAlarm',
    'ReadApiLambdaFunctionThrottlesAlarm',
    'ReceiveLambdaFunctionErrorsAlarm',
    'ReceiveLambdaFunctionThrottlesAlarm',
    'ReconcileLagAlarm',
    'ReconcileLambdaFunctionErrorsAlarm',
    'ReconcileLambdaFunctionThrottlesAlarm',
    'StoreEventSourceMappingDynamodbEventsTableFailedRecordsAlarm',
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

it.each(STAGES)(
  '%s: the reconciler runs every 5 minutes only with an Okta org, and alarms on recovered events and lag',
  (stage) => {
    const { template } = packaged[stage]!;
    const rule = template.Resources.ReconcileEventsRuleSchedule1!;
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: { 'Fn::If': ['HasOktaOrg', 'ENABLED', 'DISABLED'] },
      Targets: [{ Arn: { 'Fn::GetAtt': ['ReconcileLambdaFunction', 'Arn'] } }],
    });
    // CloudFormation evaluates the condition: only params.staging sets oktaOrgUrl.
    expect(template.Conditions!.HasOktaOrg).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [stage === 'staging' ? OKTA_ORG_URL : '', ''] }],
    });
    // A failed pass is an error of its own, not a retried invocation.
    const [, invokeConfig] = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')[0]!;
    expect(invokeConfig.Properties).toMatchObject({
      FunctionName: { Ref: 'ReconcileLambdaFunction' },
      MaximumRetryAttempts: 0,
    });
    const metric = (name: string) => ({
      Namespace: 'OktaEventHooks',
      MetricName: name,
      Dimensions: [{ Name: 'Stage', Value: stage }],
      Period: 300,
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(template.Resources.EventsRecoveredAlarm).toMatchObject({
      Condition: 'HasOktaOrg',
      Properties: {
        ...metric('EventsRecovered'),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    });
    expect(template.Resources.ReconcileLagAlarm).toMatchObject({
      Condition: 'HasOktaOrg',
      Properties: {
        ...metric('ReconcileLagSeconds'),
        Statistic: 'Maximum',
        Threshold: 3600,
        ComparisonOperator: 'GreaterThanThreshold',
      },
    });
    expect(template.Resources.ReconcileLambdaFunctionErrorsAlarm!.Properties.AlarmDescription).toBe(
      'reconcile failed (crash or timeout)',
    );
  },
);

it('subscribes the alarm e-mail only when the stage sets alarmEmail', () => {
  const subscription = (stage: string) =>
    packaged[stage]!.template.Resources.AlarmEmailSubscription!;
  expect(subscription('staging')).toMatchObject({
    Condition: 'HasAlarmEmail',
    Properties: { Protocol: 'email', Endpoint: ALARM_EMAIL, TopicArn: { Ref: 'AlarmTopic' } },
  });
  // CloudFormation evaluates the condition: "" equals "" in production here, so no subscription.
  expect(packaged.staging!.template.Conditions!.HasAlarmEmail).toEqual({
    'Fn::Not': [{ 'Fn::Equals': [ALARM_EMAIL, ''] }],
  });
  expect(packaged.production!.template.Conditions!.HasAlarmEmail).toEqual({
    'Fn::Not': [{ 'Fn::Equals': ['', ''] }],
  });
});

it.each(STAGES)(
  '%s: HTTP API access log with the stage retention, no function versions, a private versioned encrypted deployment bucket',
  (stage) => {
    const { template } = packaged[stage]!;
    expect(template.Resources.HttpApiStage!.Properties.AccessLogSettings).toMatchObject({
      DestinationArn: { 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] },
      Format: expect.stringContaining('"status":"$context.status"'),
    });
    expect(template.Resources.HttpApiLogGroup!.Properties.RetentionInDays).toBe(
      stage === 'production' ? 90 : 14,
    );
    expect(resourcesOfType(template, 'AWS::Lambda::Version')).toEqual([]);
    expect(template.Resources.ServerlessDeploymentBucket!.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })],
      },
    });
  },
);

it.each(STAGES)(
  '%s: stream functions alarm on the records they report failed (FailedInvokeEventCount), not only on Errors',
  (stage) => {
    const { template } = packaged[stage]!;
    for (const fn of ['Store', 'React']) {
      const mapping = `${fn}EventSourceMappingDynamodbEventsTable`;
      expect(template.Resources[mapping]!.Properties.MetricsConfig).toEqual({
        Metrics: ['EventCount'],
      });
      expect(template.Resources[`${mapping}FailedRecordsAlarm`]!.Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'FailedInvokeEventCount',
        Dimensions: [{ Name: 'EventSourceMappingUUID', Value: { Ref: mapping } }],
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
      expect(
        template.Resources[`${fn}LambdaFunctionErrorsAlarm`]!.Properties.AlarmDescription,
      ).toMatch(/crashed or timed out on a whole batch/);
    }
  },
);
