/**
 * The whole story on a laptop, with the project's own commands: `npm run okta -- serve` (a fake
 * Okta org), `send --org --drop 0.2` through serverless offline, events missing, `npm run
 * reconcile`, every event stored exactly once; a second run right after stores nothing. Then what
 * the CLI says when something is wrong.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../../lib/local/local-stack';
import { EVENT_HOOK_ID } from '../../lib/okta-simulator/events';
import { PROJECT_ROOT } from '../../lib/store/table-definition';
import { allItems } from '../helpers/dynamodb';
import { type TestStack, startTestStack } from '../helpers/offline';
import { isRunning, runScript } from '../helpers/run';

const SECRET = 'Basic cmVjb25jaWxlOnNlY3JldA==';
const TOKEN = '00e2e-fake-org-token-41c7';
const CLIENT_ID = '0oae2ereconciler1d7';
const PRIVATE_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

let stack: TestStack;
let serve: { child: ChildProcess; output: () => string; url: string; exited: Promise<unknown> };

beforeAll(async () => {
  stack = await startTestStack({ OKTA_AUTH_SECRET: SECRET });
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'),
      'scripts/okta.ts',
      'serve',
      '--port',
      String(port),
    ],
    {
      cwd: PROJECT_ROOT,
      // serve takes the token and the app's key from the environment, as reconcile does.
      env: {
        ...process.env,
        OKTA_API_TOKEN: TOKEN,
        OKTA_CLIENT_ID: CLIENT_ID,
        OKTA_PRIVATE_KEY: PRIVATE_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const started = Date.now();
  while (!output.includes('Ctrl-C stops it.')) {
    if (Date.now() - started > 60_000 || child.exitCode !== null)
      throw new Error(`serve did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  serve = { child, output: () => output, url: `http://127.0.0.1:${port}`, exited };
}, 180_000);

afterAll(async () => {
  if (serve) {
    serve.child.kill('SIGINT');
    await serve.exited;
    expect(serve.child.exitCode).toBe(0);
    expect(isRunning(serve.child.pid!)).toBe(false);
  }
  expect(await stack?.stop()).toEqual([]);
});

const reconcile = (args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runScript('scripts/reconcile.ts', args, {
    DYNAMODB_ENDPOINT: stack.db.local.endpoint,
    OKTA_ORG_URL: serve.url,
    OKTA_CLIENT_ID: CLIENT_ID,
    OKTA_PRIVATE_KEY: PRIVATE_KEY,
    OKTA_EVENT_HOOK_ID: EVENT_HOOK_ID,
    ...env,
  });

async function storedEvents() {
  const items = await allItems(stack.db.client, stack.tableName);
  return items.filter((i) => i.pk?.S?.startsWith('EVENT#'));
}

it('serve prints what to configure', () => {
  expect(serve.output()).toContain(`OKTA_ORG_URL=${serve.url}`);
  expect(serve.output()).toContain(`OKTA_CLIENT_ID=${CLIENT_ID}`);
  expect(serve.output()).toContain(`OKTA_EVENT_HOOK_ID=${EVENT_HOOK_ID}`);
});

it('send --drop 0.2 loses a fifth of 2,000 events; reconcile stores every one exactly once', async () => {
  const sent = await runScript('scripts/okta.ts', [
    'send',
    '--url',
    stack.url,
    '--secret',
    SECRET,
    '--type',
    'all',
    '--count',
    '2000',
    '--per-request',
    '50',
    '--concurrency',
    '4',
    '--org',
    serve.url,
    '--drop',
    '0.2',
  ]);
  expect(sent.stderr).toBe('');
  expect(sent.stdout).toContain(
    `dropped 8 of 40 deliveries (400 events): in the System Log of ${serve.url} with an event_hook.delivery failure each, never delivered`,
  );
  // On a loaded machine some 50-event deliveries may also fail for real (503 twice): Okta, and
  // the simulator, log those as event_hook.delivery failures too, and the reconciler recovers
  // their events like the dropped ones.
  const accepted = Number(/accepted (\d+)/.exec(sent.stdout)![1]);
  const failed = 32 - accepted;
  expect(sent.code).toBe(failed === 0 ? 0 : 1);
  // What the hook delivered is stored (a moment after the 204 once storage runs off the stream;
  // a delivery answered 503 may have stored some of its events too).
  // Waited for by the stream runner going idle, not by a time budget a busy machine can eat
  // (CI saw 760 of 1,450 events stored after 60 s).
  await stack.streams.idle();
  const delivered = (await storedEvents()).length;
  expect(delivered).toBeGreaterThanOrEqual(accepted * 50);
  expect(delivered).toBeLessThanOrEqual(1600);

  const first = await reconcile();
  // stderr holds progress lines only (one a second at most, on a slow run).
  for (const line of first.stderr.split('\n').filter(Boolean)) {
    expect(line).toMatch(/^… page \d+: read \d+, recovered \d+, already stored \d+, up to \S+$/);
  }
  expect(first.code).toBe(0);
  const failures = 8 + failed;
  const summary = new RegExp(
    `^reconcile 127\\.0\\.0\\.1:\\d+: caught up, read ${2000 + failures} events in 4 pages, ` +
      `recovered (\\d+), already stored (\\d+), not stored ${failures}, ` +
      `hook delivery failures ${failures}, 5 requests to Okta \\(\\+1 token\\), lag 0 s, [\\d.]+ s$`,
  ).exec(first.stdout.trim());
  expect(summary).not.toBeNull();
  const [recovered, already] = [Number(summary![1]), Number(summary![2])];
  // A delivery received durably but answered too late for the sender is still stored from the
  // stream, possibly while the reconciler runs: whoever writes an event first keeps it.
  expect(recovered + already).toBe(2000);
  expect(recovered).toBeGreaterThanOrEqual(400);
  expect(recovered).toBeLessThanOrEqual(2000 - delivered);

  const stored = await storedEvents();
  expect(stored).toHaveLength(2000);
  expect(new Set(stored.map((i) => i.uuid!.S)).size).toBe(2000);
  expect(stored.filter((i) => i.origin?.S === 'systemLog')).toHaveLength(recovered);
  expect(stored.filter((i) => i.origin?.S === 'hook')).toHaveLength(2000 - recovered);

  // Right after: at most 2 requests (the hook's types, one empty page), nothing stored.
  const second = await reconcile();
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(
    /caught up, read 0 events in 1 page, recovered 0, already stored 0, hook delivery failures 0, 2 requests to Okta \(\+1 token\)/,
  );
  expect(await storedEvents()).toHaveLength(2000);
}, 480_000);

it('says in one line what is wrong, with the exit code to match', async () => {
  const badToken = await reconcile([], {
    OKTA_CLIENT_ID: '',
    OKTA_PRIVATE_KEY: '',
    OKTA_API_TOKEN: 'wrong-token-9d2f',
  });
  expect(badToken.code).toBe(1);
  expect(badToken.stderr.trim()).toBe(
    `reconcile: Okta answered 401 E0000011 to GET /api/v1/eventHooks/${EVENT_HOOK_ID}: Invalid token provided — check the API token (OKTA_API_TOKEN)`,
  );
  expect(badToken.stdout + badToken.stderr).not.toContain('wrong-token-9d2f');

  const unreachable = await reconcile([], { OKTA_ORG_URL: `http://127.0.0.1:${await freePort()}` });
  expect(unreachable.code).toBe(1);
  expect(unreachable.stderr.trim()).toMatch(
    /^reconcile: cannot reach http:\/\/127\.0\.0\.1:\d+\/oauth2\/v1\/token: ECONNREFUSED$/,
  );

  const tooOld = await reconcile(['--since', '2020-01-01']);
  expect(tooOld.code).toBe(1);
  expect(tooOld.stderr.trim()).toMatch(
    /^reconcile: --since 2020-01-01 is older than the System Log's 90 days: the oldest that can be read is \d{4}-\d{2}-\d{2}$/,
  );

  const usage = await reconcile(['--until', '2026-01-01']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(
    /^reconcile: --until needs --since: a window has two ends\n\nUsage: npm run reconcile/,
  );

  const notConfigured = await reconcile([], { OKTA_ORG_URL: '' });
  expect(notConfigured.code).toBe(1);
  expect(notConfigured.stderr.trim()).toMatch(/^reconcile: OKTA_ORG_URL is not set: /);
}, 120_000);
