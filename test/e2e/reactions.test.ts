/**
 * The forward reaction end to end: Okta deliveries into a real serverless offline, the table's
 * stream running store and react (as npm start runs them), and a Standard Webhooks receiver that
 * verifies every request with the `standardwebhooks` package. Also the "Done when": 200
 * events sent with `npm run okta -- send`, received by `npm run okta -- receive --fail 0.3`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../lib/local/local-stack';
import { deliver } from '../../lib/okta-simulator/deliver';
import { planSend, runSend } from '../../lib/okta-simulator/send';
import { type WebhookReceiver, startWebhookReceiver } from '../../lib/okta-simulator/receive';
import { PROJECT_ROOT } from '../../lib/store/table-definition';
import { type TestStack, startTestStack } from '../helpers/offline';
import { run, runScript } from '../helpers/run';

const OKTA_SECRET = 'Basic cmVhY3Q6cmVhY3Rpb25zLXNlY3JldA==';
const FORWARD_SECRET =
  'whsec_' + Buffer.from('forward-secret-of-the-e2e-test!!').toString('base64');
const READ_TOKEN = 'reactions-read-token';
let stack: TestStack;
let port: number;
let cliEnv: NodeJS.ProcessEnv;
let warmUuid: string;

beforeAll(async () => {
  port = await freePort();
  stack = await startTestStack({
    OKTA_AUTH_SECRET: OKTA_SECRET,
    EVENTS_API_TOKEN: READ_TOKEN,
    FORWARD_URL: `http://127.0.0.1:${port}/okta-events`,
    FORWARD_SECRET,
    REACTION_TRIES: '2',
    REACTION_RETRY_BASE_MS: '2',
  });
  cliEnv = { DYNAMODB_ENDPOINT: stack.db.local.endpoint };
  // serverless offline builds and loads each function on first use: past Okta's 3 s here.
  const plan = planSend({ types: ['user.session.start'], count: 1, perRequest: 1, duplicates: 0 });
  warmUuid = plan[0]!.uuids[0]!;
  const warmReceiver = await startWebhookReceiver({
    port,
    secret: FORWARD_SECRET,
    onLine: () => undefined,
  });
  try {
    const warm = await deliver(stack.url, plan[0]!.body, {
      secret: OKTA_SECRET,
      timeoutMs: 60_000,
    });
    expect(warm.outcome).toBe('accepted');
    await stack.streams.idle();
    expect(warmReceiver.stats.acknowledged.size).toBe(1);
  } finally {
    await warmReceiver.stop();
  }
}, 240_000);

afterAll(async () => {
  expect(await stack?.stop()).toEqual([]);
});

/** A repeatable random sequence (mulberry32). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function send(count: number): Promise<string[]> {
  const plan = planSend({
    types: ['user.lifecycle.create'],
    count,
    perRequest: 5,
    duplicates: 0.2,
  });
  const { summary } = await runSend(stack.url, plan, { secret: OKTA_SECRET, concurrency: 2 });
  expect(summary.lost).toBe(0);
  return [...new Set(plan.flatMap((r) => r.uuids))];
}

async function readApi(path: string, token = READ_TOKEN) {
  const response = await fetch(`${stack.offline.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('forward', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });

  it('gets each event acknowledged exactly once by a receiver failing first attempts', async () => {
    receiver = await startWebhookReceiver({
      port,
      secret: FORWARD_SECRET,
      fail: 0.5,
      random: seeded(12),
      onLine: () => undefined,
    });
    const uuids = await send(30);
    await stack.streams.idle();

    expect(receiver.stats.rejected).toBe(0);
    expect(receiver.stats.failedOnPurpose).toBeGreaterThan(5);
    expect([...receiver.stats.acknowledged.keys()].sort()).toEqual([...uuids].sort());
    expect([...receiver.stats.acknowledged.values()].every((n) => n === 1)).toBe(true);

    // The outcomes say so: all succeeded, those that met a 503 on their second attempt.
    const listed = await runScript(
      'scripts/events.ts',
      ['reactions', '--name', 'forward', '--json', '--all'],
      cliEnv,
    );
    expect(listed.code).toBe(0);
    const outcomes = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { uuid: string; status: string; attempts: number });
    expect(outcomes.map((o) => o.uuid).sort()).toEqual([...uuids, warmUuid].sort());
    expect(outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    expect(outcomes.filter((o) => o.attempts === 2)).toHaveLength(receiver.stats.failedOnPurpose);
    const failed = await runScript('scripts/events.ts', ['reactions', '--failed'], cliEnv);
    expect({ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }).toEqual({
      code: 0,
      stdout: '',
      stderr: 'No failed reactions.\n',
    });
  }, 240_000);

  it('leaves failed outcomes while the receiver is down; redrive-reactions delivers them, once', async () => {
    // The ForwardError below names the origin only: the path may hold a token, the secret never shows.
    const uuids = await send(5); // nothing listens on the port
    await stack.streams.idle();
    expect(stack.failures.filter((f) => f.consumer === 'react').length).toBeGreaterThan(0);
    const failed = await runScript('scripts/events.ts', ['reactions', '--failed'], cliEnv);
    expect(failed.code).toBe(0);
    const lines = failed.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(line).toMatch(
        new RegExp(
          `failed +forward +attempts=12 .*ForwardError: cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`,
        ),
      );
    }

    receiver = await startWebhookReceiver({
      port,
      secret: FORWARD_SECRET,
      onLine: () => undefined,
    });
    const redrive = await runScript('scripts/events.ts', ['redrive-reactions'], cliEnv);
    expect(redrive.stderr).toMatch(
      /Redrove 5 in table okta-events-local at .*: 5 succeeded, 0 failed again\./,
    );
    expect(redrive.code).toBe(0);
    expect(
      redrive.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/ +/)[1]),
    ).toEqual(Array(5).fill('succeeded'));
    expect([...receiver.stats.acknowledged.keys()].sort()).toEqual([...uuids].sort());

    const again = await runScript('scripts/events.ts', ['redrive-reactions'], cliEnv);
    expect(again).toMatchObject({ code: 0, stdout: '' });
    expect(again.stderr).toMatch(/^No failed reactions in table okta-events-local/);
    await stack.streams.idle();
    expect([...receiver.stats.acknowledged.values()].every((n) => n === 1)).toBe(true);
    expect(receiver.stats.requests).toBe(5);
  }, 240_000);

  it('shows the outcomes in the read API', async () => {
    expect((await readApi('/reactions', '')).status).toBe(401);
    const page = await readApi('/reactions?status=succeeded&name=forward&limit=2');
    expect(page.status).toBe(200);
    const reactions = page.body.reactions as Array<{ uuid: string; status: string }>;
    expect(reactions).toHaveLength(2);
    expect(typeof page.body.nextCursor).toBe('string');
    const one = await readApi(`/events/${reactions[0]!.uuid}/reactions`);
    expect(one).toEqual({
      status: 200,
      body: {
        uuid: reactions[0]!.uuid,
        reactions: [expect.objectContaining({ reaction: 'forward', status: 'succeeded' })],
      },
    });
    expect((await readApi('/reactions?status=done')).body).toMatchObject({
      error: 'invalid_parameter',
    });
    expect((await readApi('/events/no-such-event/reactions')).status).toBe(404);
  });
});

/** `npm run okta -- <args>` as a long-running child, its output collected. */
function okta(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'),
      join(PROJECT_ROOT, 'scripts/okta.ts'),
      ...args,
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

it('Done when: 200 events sent, 200 distinct webhook-ids acknowledged by a receiver failing 30% of first attempts, every signature verified', async () => {
  const receiver = okta([
    'receive',
    '--port',
    String(port),
    '--secret',
    FORWARD_SECRET,
    '--fail',
    '0.3',
  ]);
  try {
    const deadline = Date.now() + 60_000;
    while (!receiver.output().includes('Receiving on')) {
      if (Date.now() > deadline) throw new Error(`receiver did not start:\n${receiver.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const sent = await run(
      [
        join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'),
        join(PROJECT_ROOT, 'scripts/okta.ts'),
        'send',
        '--url',
        stack.url,
        '--secret',
        OKTA_SECRET,
        '--type',
        'all',
        '--count',
        '200',
      ],
      {},
      240_000,
    );
    expect({ code: sent.code, stderr: sent.stderr, lost: sent.stdout.match(/LOST.*/) }).toEqual({
      code: 0,
      stderr: '',
      lost: null,
    });
    const uuids = [...sent.stdout.matchAll(/ uuid ([0-9a-f-]{36}) /g)].map((m) => m[1]!);
    expect(new Set(uuids).size).toBe(200);
    await stack.streams.idle();
  } finally {
    receiver.child.kill('SIGTERM');
  }
  expect(await receiver.exited).toBe(0);
  const output = receiver.output();
  const acknowledged = [
    ...output.matchAll(/ 204 ([0-9a-f-]{36}) \S+ .*verified \(attempt (\d)\)/g),
  ];
  const ids = new Set(acknowledged.map((m) => m[1]));
  expect(ids.size).toBe(200);
  expect(acknowledged).toHaveLength(200); // each once: no repeat line
  const failedFirst = [...output.matchAll(/ 503 [0-9a-f-]{36} failing this first attempt/g)].length;
  expect(failedFirst).toBeGreaterThan(30); // about 60 of 200
  expect(acknowledged.filter((m) => m[2] === '2')).toHaveLength(failedFirst);
  expect(output).not.toMatch(/ 401 /);
  expect(output).toMatch(
    new RegExp(
      `received ${200 + failedFirst} requests: ${200 + failedFirst} verified, 0 not verified; 200 webhook-ids acknowledged \\(0 repeats\\), ${failedFirst} first attempts failed on purpose`,
    ),
  );
}, 300_000);
