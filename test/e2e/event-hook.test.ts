/**
 * `npm run okta -- hook …` and `emit` against the fake org's Event Hooks API and a real
 * serverless offline (DynamoDB Local, free ports): apply creates and verifies, a second apply
 * writes nothing, a changed type list is one update, a wrong secret fails verification in one
 * line, status lists event_hook.delivery failures, a rotation during a steady stream refuses no
 * delivery and loses no event, an interrupted rotation completes when re-run, and no secret
 * appears in any output.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { type FakeOrg, startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import { allItems } from '../helpers/dynamodb';
import { startFakeSsm } from '../helpers/fake-ssm';
import { type TestStack, startTestStack } from '../helpers/offline';
import { type RunResult, runScript } from '../helpers/run';
import { type SlowProxy, startSlowProxy } from '../helpers/slow-proxy';

const SECRET = 'first-secret-Zm9vYmFyYmF6cXV4';
const TOKEN = '00fakeEventHookToken';
const TYPES = 'user.lifecycle.create,user.session.start';
let stack: TestStack;
let org: FakeOrg;
let proxy: SlowProxy;
let dir: string;
let envFile: string;
/** Every output of every command run, to look for secrets in. */
const outputs: string[] = [];
/** Secrets generated or used during the run. */
const secretsUsed: string[] = [SECRET, 'not-the-endpoints-secret'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'event-hook-'));
  envFile = join(dir, '.env');
  writeFileSync(envFile, `# local settings\nOKTA_AUTH_SECRET=${SECRET}\nLOG_FORMAT=pretty\n`);
  stack = await startTestStack({ OKTA_AUTH_SECRET: SECRET, LOCAL_ENV_FILE: envFile });
  org = await startFakeOktaOrg({
    apiToken: TOKEN,
    rateLimit: { limit: 10_000, windowMs: 60_000 },
    // Okta waits 3 s; a loaded 2-core machine must not turn a slow answer into a failed test.
    hookTimeoutMs: 10_000,
  });
  proxy = await startSlowProxy(Number(new URL(stack.url).port));
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await org?.stop();
  expect(await stack?.stop()).toEqual([]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The endpoint through the proxy, so a test can make it too slow for Okta. */
const endpoint = () => `${proxy.endpoint}${new URL(stack.url).pathname}`;

async function okta(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const result = await runScript('scripts/okta.ts', args, {
    OKTA_ORG_URL: org.url,
    OKTA_API_TOKEN: TOKEN,
    OKTA_AUTH_SECRET: SECRET,
    OKTA_EVENT_TYPES: TYPES,
    LOCAL_ENV_FILE: envFile,
    OKTA_EVENT_HOOK_ID: '',
    OKTA_CLIENT_ID: '',
    OKTA_PRIVATE_KEY: '',
    ...env,
  });
  outputs.push(result.stdout, result.stderr);
  return result;
}

const writes = () => org.requests.filter((r) => r.method !== 'GET').length;

async function storedUuids(): Promise<Set<string>> {
  await stack.streams.idle();
  const items = await allItems(stack.db.client, stack.tableName);
  return new Set(items.filter((i) => i.pk?.S?.startsWith('EVENT#')).map((i) => i.uuid!.S!));
}

function secretsInEnvFile(): string[] {
  return (parseEnv(readFileSync(envFile, 'utf8')).OKTA_AUTH_SECRET ?? '').split(',');
}

it('a wrong secret: the hook is created, Okta cannot verify it, one line says why', async () => {
  const result = await okta(['hook', 'apply', '--url', endpoint()], {
    OKTA_AUTH_SECRET: 'not-the-endpoints-secret',
  });
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/^created who\w+ \(okta-event-hooks-local\)/);
  expect(result.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^okta hook apply: Okta could not verify http:\/\/127\.0\.0\.1:\d+\/okta-webhooks-endpoint: Unable to verify event hook: status 401/,
    ),
  ]);
  expect([...org.hooks.hooks.values()][0]!.verificationStatus).toBe('UNVERIFIED');
});

it('apply with the right secret sends it again and verifies; a second apply writes nothing', async () => {
  const first = await okta(['hook', 'apply', '--url', endpoint()]);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  const id = [...org.hooks.hooks.keys()][0]!;
  expect(first.stdout.trim().split('\n')).toEqual([
    `updated ${id}: secret sent again (the hook was UNVERIFIED)`,
    `verified ${id}: Okta reached ${endpoint()}`,
    `(2 write calls to ${org.url})`,
  ]);
  const hook = org.hooks.hooks.get(id)!;
  expect(hook).toMatchObject({ status: 'ACTIVE', verificationStatus: 'VERIFIED' });
  expect(hook.events.items).toEqual(TYPES.split(','));

  const before = writes();
  const second = await okta(['hook', 'apply', '--url', endpoint()]);
  expect(second.code).toBe(0);
  expect(second.stdout.trim().split('\n')).toEqual([
    `unchanged ${id} (okta-event-hooks-local): ACTIVE, VERIFIED`,
    `(0 write calls to ${org.url})`,
  ]);
  expect(writes()).toBe(before);
});

it('a changed type list is one update and a re-verify', async () => {
  const before = org.requests.length;
  const result = await okta(['hook', 'apply', '--url', endpoint()], {
    OKTA_EVENT_TYPES: `${TYPES},group.user_membership.add`,
  });
  expect(result.code).toBe(0);
  const id = [...org.hooks.hooks.keys()][0]!;
  expect(result.stdout.trim().split('\n')).toEqual([
    `updated ${id}: types +group.user_membership.add`,
    `verified ${id}: Okta reached ${endpoint()}`,
    `(2 write calls to ${org.url})`,
  ]);
  // Counted at the fake org: exactly one PUT and one verify, nothing else written.
  const written = org.requests
    .slice(before)
    .filter((r) => r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);
  expect(written).toEqual([
    `PUT /api/v1/eventHooks/${id}`,
    `POST /api/v1/eventHooks/${id}/lifecycle/verify`,
  ]);
  expect(org.hooks.hooks.get(id)!.verificationStatus).toBe('VERIFIED');
  // Back to the committed list for the tests below.
  expect((await okta(['hook', 'apply', '--url', endpoint()])).code).toBe(0);
});

it('refuses, before calling Okta, a type Okta does not offer for hooks', async () => {
  const before = org.requests.length;
  const result = await okta(['hook', 'apply', '--url', endpoint()], {
    OKTA_EVENT_TYPES: 'user.session.start,policy.lifecycle.create',
  });
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe(
    'okta hook apply: Okta does not offer policy.lifecycle.create for event hooks (lib/event-hook/hook-eligible-types.ts lists those it does)',
  );
  expect(org.requests.length).toBe(before);
});

it('emit delivers to the verified hook and the events are stored; status shows failures after the endpoint was down', async () => {
  const before = await storedUuids();
  const emitted = await okta([
    'emit',
    '--org',
    org.url,
    '--type',
    'user.session.start',
    '--count',
    '3',
  ]);
  expect(emitted.stdout).toMatch(/hook who\w+: 3 deliveries, accepted 3, failed 0/);
  expect(emitted.code).toBe(0);
  expect((await storedUuids()).size).toBe(before.size + 3);

  // The endpoint goes down (nothing listens at its address), then comes back at a new one.
  await proxy.stop();
  const down = await okta(['emit', '--org', org.url, '--type', 'user.session.start']);
  expect(down.stdout).toMatch(
    /accepted 0, failed 1 \(each in the System Log as event_hook\.delivery\)/,
  );
  expect(down.code).toBe(1);
  proxy = await startSlowProxy(Number(new URL(stack.url).port));
  const moved = await okta(['hook', 'apply', '--url', endpoint()]);
  expect(moved.stdout).toMatch(/^updated who\w+: uri .*\nverified /);

  const status = await okta(['hook', 'status', '--url', endpoint()]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/status +ACTIVE, VERIFIED/);
  expect(status.stdout).toMatch(/auth header +Authorization, secret set in Okta: yes/);
  expect(status.stdout).toMatch(/this stage +same: apply would change nothing/);
  expect(status.stdout).toMatch(
    /event_hook\.delivery failures in the last 24 h: 1\n .* endpoint answered ECONNREFUSED → ECONNREFUSED/,
  );
}, 60_000);

it('rotates the secret during 300 steady deliveries: none refused, all 300 stored, the old secret refused after', async () => {
  const before = await storedUuids();
  const linesBefore = stack.lines.length;
  const stream = org.emit({ types: ['user.lifecycle.create'], count: 300, ratePerSecond: 25 });
  await new Promise((resolve) => setTimeout(resolve, 2000)); // the stream is under way
  const rotation = await okta(['hook', 'rotate-secret', '--url', endpoint(), '--grace', '2']);
  const delivered = await stream;
  expect(rotation.stderr).toBe('');
  expect(rotation.code).toBe(0);
  expect(
    rotation.stdout
      .trim()
      .split('\n')
      .map((l) => l.slice(0, 4)),
  ).toEqual(['1/5 ', '2/5 ', '3/5 ', '4/5 ', '5/5 ']);
  expect(delivered.hooks).toEqual([
    expect.objectContaining({ deliveries: 300, accepted: 300, failed: 0 }),
  ]);
  // serverless offline's request log: no delivery (POST) answered 401 during the rotation.
  const refusedPosts = stack.lines
    .slice(linesBefore)
    .filter((l) => l.includes('"method":"POST"') && l.includes('"status":401'));
  expect(refusedPosts).toEqual([]);
  const stored = await storedUuids();
  expect(stored.size).toBe(before.size + 300);

  const secrets = secretsInEnvFile();
  expect(secrets).toHaveLength(1);
  expect(secrets[0]).not.toBe(SECRET);
  const old = await okta(['verify', '--url', stack.url, '--secret', SECRET]);
  expect(old.stdout).toMatch(/^NOT VERIFIED: status 401/);
  secretsUsed.push(secrets[0]!);
}, 120_000);

it('an interrupted rotation (stopped after step 1), re-run, completes with the same new secret', async () => {
  const [current] = secretsInEnvFile();
  const interrupted = 'interrupted-rotation-new-secret-abc';
  writeFileSync(
    envFile,
    `# local settings\nOKTA_AUTH_SECRET=${interrupted},${current}\nLOG_FORMAT=pretty\n`,
  );
  const rerun = await okta(['hook', 'rotate-secret', '--url', endpoint(), '--grace', '0']);
  expect(rerun.code).toBe(0);
  expect(rerun.stdout).toMatch(/^1\/5 rotation under way/);
  expect(rerun.stdout).toMatch(/5\/5 .* the endpoint refuses it/);
  expect(secretsInEnvFile()).toEqual([interrupted]);
  expect(readFileSync(envFile, 'utf8')).toMatch(/^# local settings\n.*\nLOG_FORMAT=pretty\n$/);
  const after = await okta([
    'emit',
    '--org',
    org.url,
    '--type',
    'user.session.start',
    '--count',
    '1',
  ]);
  expect(after.stdout).toMatch(/accepted 1, failed 0/);
  secretsUsed.push(interrupted);
});

it('a deployed stage: apply reads the secret from the stage’s SSM parameter; delete --yes deactivates, then deletes', async () => {
  // The secret the endpoint accepts now (the rotations above changed it) is the stage's.
  const [current] = secretsInEnvFile();
  const ssm = await startFakeSsm({ '/okta-event-hooks/staging/okta-auth-secret': current! });
  try {
    const applied = await okta(['hook', 'apply', '--stage', 'staging', '--url', endpoint()], {
      SSM_ENDPOINT: ssm.endpoint,
    });
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toMatch(/^created who\w+ \(okta-event-hooks-staging\)/);
    expect(applied.stdout).toMatch(/\nverified who\w+: Okta reached/);
    expect(ssm.requests.map((r) => r.names)).toEqual([
      ['/okta-event-hooks/staging/okta-auth-secret'],
    ]);

    const refused = await okta(['hook', 'delete', '--stage', 'staging']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^okta hook: delete stops Okta's deliveries to the stage: add --yes to confirm/,
    );
    const deleted = await okta(['hook', 'delete', '--stage', 'staging', '--yes']);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(
      /^deactivated (who\w+) \(okta-event-hooks-staging\)\ndeleted \1 /,
    );
    expect([...org.hooks.hooks.values()].map((h) => h.name)).toEqual(['okta-event-hooks-local']);
  } finally {
    await ssm.stop();
  }
});

it('no secret appears in any command output or in serverless offline’s log', () => {
  expect(secretsUsed).toHaveLength(4);
  const printed = [...outputs, ...stack.lines].join('\n');
  for (const secret of secretsUsed) expect(printed).not.toContain(secret);
});
