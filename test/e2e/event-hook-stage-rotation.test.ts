/**
 * `hook apply --stage S` without --url reads the stack's WebhookUrl output (a fake CloudFormation).
 * `hook rotate-secret --stage S` against the stage's SSM parameter (the project's fake SSM, the
 * real JSON protocol and SigV4), the fake org, and a real serverless offline whose receivers read
 * that parameter (SECRETS_PATH + SSM_ENDPOINT, 1 s cache): interrupted after step 1 and re-run, it
 * completes; the old secret is refused afterwards; no secret appears in any output or log.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type FakeOrg, startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import { verifyEndpoint } from '../../lib/okta-simulator/verify';
import { sleep } from '../../lib/sleep';
import { PROJECT_ROOT } from '../../lib/store/table-definition';
import { type FakeCloudFormation, startFakeCloudFormation } from '../helpers/fake-cloudformation';
import { type FakeSsm, startFakeSsm } from '../helpers/fake-ssm';
import { type TestStack, startTestStack } from '../helpers/offline';
import { type RunResult, runScript } from '../helpers/run';

const PATH = '/okta-event-hooks/staging';
const PARAMETER = `${PATH}/okta-auth-secret`;
const SECRET = 'stage-first-secret-cXV4cXV1eA';
const TOKEN = '00fakeStageRotationToken';
let ssm: FakeSsm;
let stack: TestStack;
let org: FakeOrg;
let cloudFormation: FakeCloudFormation;
const outputs: string[] = [];

beforeAll(async () => {
  ssm = await startFakeSsm({ [PARAMETER]: SECRET });
  stack = await startTestStack({
    SECRETS_PATH: PATH,
    SSM_ENDPOINT: ssm.endpoint,
    SECRETS_CACHE_SECONDS: '1',
    OKTA_AUTH_SECRET: 'ignored-when-secrets-path-is-set',
  });
  org = await startFakeOktaOrg({
    apiToken: TOKEN,
    rateLimit: { limit: 10_000, windowMs: 60_000 },
    hookTimeoutMs: 10_000, // a loaded 2-core machine must not turn a slow answer into a failure
  });
  cloudFormation = await startFakeCloudFormation({
    'okta-event-hooks-staging': { HttpApiUrl: new URL(stack.url).origin, WebhookUrl: stack.url },
  });
}, 180_000);

afterAll(async () => {
  await org?.stop();
  expect(await stack?.stop()).toEqual([]);
  await ssm?.stop();
  await cloudFormation?.stop();
});

const ENV: NodeJS.ProcessEnv = {
  OKTA_ORG_URL: '',
  OKTA_API_TOKEN: TOKEN,
  OKTA_EVENT_HOOK_ID: '',
  OKTA_CLIENT_ID: '',
  OKTA_PRIVATE_KEY: '',
  OKTA_AUTH_SECRET: '',
  SSM_ENDPOINT: '',
  CLOUDFORMATION_ENDPOINT: '',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
};

async function okta(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const result = await runScript('scripts/okta.ts', args, {
    ...ENV,
    OKTA_ORG_URL: org.url,
    SSM_ENDPOINT: ssm.endpoint,
    CLOUDFORMATION_ENDPOINT: cloudFormation.endpoint,
    ...env,
  });
  outputs.push(result.stdout, result.stderr);
  return result;
}

/** Runs the command and kills it (its whole process group) once stdout has a line starting `at`. */
function killedAt(args: string[], at: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/okta.ts', ...args],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...ENV, OKTA_ORG_URL: org.url, SSM_ENDPOINT: ssm.endpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.split('\n').some((l) => l.startsWith(at))) process.kill(-child.pid!, 'SIGKILL');
  });
  child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => child.on('close', () => resolve(stdout)));
}

const parameterValues = () => (ssm.parameters.get(PARAMETER) ?? '').split(',');

async function refused(secret: string): Promise<boolean> {
  const result = await verifyEndpoint(stack.url, { secret, authHeader: 'Authorization' });
  return result.attempts.some((a) => a.status === 401);
}

it('without AWS credentials in the environment: one line saying which to set', async () => {
  const result = await okta(['hook', 'rotate-secret', '--stage', 'staging'], { SSM_ENDPOINT: '' });
  expect(result.code).toBe(1);
  expect(result.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^okta hook rotate-secret: rotate-secret --stage staging writes SSM with your AWS credentials from the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    ),
  ]);
  expect(ssm.parameters.get(PARAMETER)).toBe(SECRET);
});

it("apply --stage without --url: the endpoint is the stack's WebhookUrl output; no stack: one line", async () => {
  const missing = await okta(['hook', 'apply', '--stage', 'production']);
  expect(missing.code).toBe(1);
  expect(missing.stderr.trim().split('\n')).toEqual([
    'okta hook apply: CloudFormation answered ValidationError (Stack with id okta-event-hooks-production does not exist) for the stack okta-event-hooks-production in us-east-1: deploy the stage first, or give --url (the WebhookUrl that npx serverless info --stage production --verbose prints)',
  ]);

  const applied = await okta(['hook', 'apply', '--stage', 'staging']);
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  const id = [...org.hooks.hooks.keys()][0]!;
  expect(applied.stdout.trim().split('\n')).toEqual([
    `endpoint ${stack.url} (the stack's WebhookUrl output)`,
    `created ${id} (okta-event-hooks-staging): ${stack.url}, 3 event types`,
    `verified ${id}: Okta reached ${stack.url}`,
    `(2 write calls to ${org.url})`,
  ]);
  expect(cloudFormation.requests).toEqual([
    { action: 'DescribeStacks', stack: 'okta-event-hooks-production' },
    { action: 'DescribeStacks', stack: 'okta-event-hooks-staging' },
  ]);
});

it('interrupted after step 1, re-run: completes, the old secret is refused, deliveries still stored', async () => {
  // Step 1 done (SSM holds new and old), then the process dies while it waits out the cache.
  const first = await killedAt(
    ['hook', 'rotate-secret', '--stage', 'staging', '--cache-wait', '600'],
    '1/5 ',
  );
  outputs.push(first);
  expect(first).toMatch(
    /^1\/5 new secret generated; the SSM parameter \/okta-event-hooks\/staging\/okta-auth-secret \(us-east-1\) now accepts new and old\n/,
  );
  const [fresh, old] = parameterValues();
  expect(old).toBe(SECRET);
  expect(fresh).not.toBe(SECRET);

  const rerun = await okta([
    'hook',
    'rotate-secret',
    '--stage',
    'staging',
    '--cache-wait',
    '2',
    '--grace',
    '1',
  ]);
  expect(rerun.stderr).toBe('');
  expect(rerun.code).toBe(0);
  const steps = rerun.stdout.split('\n').filter((l) => /^\d\/5 /.test(l));
  expect(steps.map((l) => l.slice(0, 4))).toEqual(['1/5 ', '2/5 ', '3/5 ', '4/5 ', '5/5 ']);
  expect(steps[0]).toMatch(/rotation under way .* holds 2 values\): continuing with the first/);
  expect(rerun.stdout).toMatch(
    /\n {4}waiting 2 s: the receivers re-read their secrets within that\n/,
  );
  expect(steps[4]).toMatch(/old secret is removed from the SSM parameter .*refuse it within 2 s/);
  expect(parameterValues()).toEqual([fresh]);
  // Two writes in all: "new,old" by the interrupted run, "new" by the re-run.
  expect(ssm.requests.filter((r) => r.target === 'AmazonSSM.PutParameter')).toHaveLength(2);

  // The receivers re-read SSM within their 1 s cache: the old secret is refused, the new accepted.
  for (let i = 0; i < 40 && !(await refused(SECRET)); i++) await sleep(250);
  expect(await refused(SECRET)).toBe(true);
  const emitted = await okta(['emit', '--org', org.url, '--type', 'user.session.start']);
  expect(emitted.stdout).toMatch(/hook who\w+: 1 deliveries, accepted 1, failed 0/);
}, 120_000);

it('no secret appears in any command output or in serverless offline’s log', () => {
  const printed = [...outputs, ...stack.lines].join('\n');
  expect(printed).not.toContain(SECRET);
  for (const value of parameterValues()) expect(printed).not.toContain(value);
});
