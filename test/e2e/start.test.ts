/**
 * `npm start` as a developer runs it: serves on the port it was given, prints the endpoint and
 * the Hookdeck command, and Ctrl-C (SIGINT to its process group) stops everything it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/local/local-stack';
import { oktaEvents } from '../../lib/okta-simulator/events';
import { startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import { PROJECT_ROOT } from '../../lib/store/table-definition';
import { sampleDeliveryText } from '../helpers/okta';
import { isRunning } from '../helpers/run';
import { startWebhookReceiver } from '../../lib/okta-simulator/receive';

const FORWARD_SECRET =
  'whsec_' + Buffer.from('the start test forward secret!!!').toString('base64');

function start(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, OKTA_AUTH_SECRET: '', HOOKDECK_SIGNING_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, like a terminal's foreground job
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGKILL to a process's group (serverless offline leads its own), else to the process. */
function stopGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
      return;
    } catch {
      // no such group, or already gone
    }
  }
}

function pidsOf(output: string): number[] {
  return [...output.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
}

it('serves, warns when open, reconciles with an Okta org, runs the reactions, and stops everything on Ctrl-C', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'okta-hooks-start-'));
  const port = await freePort();
  const org = await startFakeOktaOrg({ apiToken: 'start-test-token' });
  const missed = oktaEvents({ types: ['user.session.start'], count: 3 });
  org.addEvents(missed);
  // The forward reaction, configured as a developer would: its events reach this receiver.
  const receiver = await startWebhookReceiver({
    port: 0,
    secret: FORWARD_SECRET,
    onLine: () => undefined,
  });
  const run = start({
    PORT: String(port),
    DYNAMODB_LOCAL_PORT: String(await freePort()),
    DYNAMODB_DATA_DIR: dataDir,
    OKTA_ORG_URL: org.url,
    OKTA_API_TOKEN: 'start-test-token',
    FORWARD_URL: receiver.url,
    FORWARD_SECRET,
  });
  try {
    await waitFor(() => run.output().includes('Waiting for requests'), 90_000);
    expect(run.output()).toContain(
      `Okta event hook endpoint: http://localhost:${port}/okta-webhooks-endpoint`,
    );
    expect(run.output()).toContain(`hookdeck listen ${port} okta --path /okta-webhooks-endpoint`);
    expect(run.output()).toMatch(/WARNING: no OKTA_AUTH_SECRET/);
    expect(run.output()).toMatch(new RegExp(`Event browser: +http://localhost:${port}/ui\n`));
    expect((await fetch(`http://localhost:${port}/ui`)).status).toBe(200);

    const response = await fetch(`http://localhost:${port}/okta-webhooks-endpoint`, {
      headers: { 'x-okta-verification-challenge': 'hello' },
    });
    expect(await response.json()).toEqual({ verification: 'hello' });
    await waitFor(() => /GET \/okta-webhooks-endpoint 200 \d+ms/.test(run.output()), 5000);

    // A delivery: its 204 line, then the line of the stream storing it.
    const posted = await fetch(`http://localhost:${port}/okta-webhooks-endpoint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: sampleDeliveryText,
    });
    expect(posted.status).toBe(204);
    await waitFor(() => / STORE 85b60edb-4263-4e13-993b-818e26201052 /.test(run.output()), 60_000);
    expect(run.output()).toMatch(
      /POST \/okta-webhooks-endpoint 204 user\.session\.start 1 event received new \d+ms/,
    );
    expect(run.output()).toMatch(
      /STORE 85b60edb-4263-4e13-993b-818e26201052 user\.session\.start stored=1 duplicates=0 \d+ms/,
    );
    // Then the react function, from the same stream: forwarded, signed, acknowledged.
    expect(run.output()).toContain(
      `Reactions:                        forward to http://127.0.0.1:${receiver.port} (*)`,
    );
    await waitFor(
      () =>
        / REACT forward user\.session\.start f1d0b993-cc19-11ed-a688-db22c99ef6c4 succeeded /.test(
          run.output(),
        ),
      60_000,
    );

    // The scheduled function's job, done by npm start itself: a pass at start.
    expect(run.output()).toContain(
      `Reconciling with ${org.url}'s System Log every 300 s (RECONCILE_INTERVAL_SECONDS; 0 turns it off)`,
    );
    await waitFor(
      () => /reconcile 127\.0\.0\.1:\d+ caught up read=3 recovered=3/.test(run.output()),
      30_000,
    );
    expect(run.output()).not.toContain('start-test-token');
    // Reactions run on every stored event, whoever stored it: the hook's and the recovered ones.
    const everyEvent = ['f1d0b993-cc19-11ed-a688-db22c99ef6c4', ...missed.map((e) => e.uuid)];
    await waitFor(() => receiver.stats.acknowledged.size >= everyEvent.length, 60_000);
    expect([...receiver.stats.acknowledged.keys()].sort()).toEqual(everyEvent.sort());

    const pids = pidsOf(run.output());
    expect(pids).toHaveLength(2);
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
    await waitFor(() => pids.every((pid) => !isRunning(pid)), 10_000);
  } finally {
    if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGKILL');
    // After a failed assertion npm start had no chance to stop its children: stop them by pid.
    for (const pid of pidsOf(run.output())) stopGroup(pid);
    rmSync(dataDir, { recursive: true, force: true });
    await org.stop();
    await receiver.stop();
  }
}, 180_000);

it('exits 1 with one line when the port is taken', async () => {
  const server = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, resolve));
  try {
    const run = start({ PORT: String(port), DYNAMODB_LOCAL_PORT: String(await freePort()) });
    expect(await run.exited).toBe(1);
    // The pid holding the port is named: here, this test's own.
    expect(run.output().trim()).toMatch(
      new RegExp(
        `^npm start: Port ${port} \\(serverless offline\\) is already in use by pid ${process.pid} \\(node( [^)]*)?\\): stop whatever holds it or choose another port\\.$`,
      ),
    );
  } finally {
    server.close();
  }
});

it('exits 1 with one line naming what to install when Java is missing', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'okta-hooks-nojava-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  try {
    const run = start({ PATH: bin, PORT: String(await freePort()) });
    expect(await run.exited).toBe(1);
    expect(run.output().trim()).toMatch(
      /^npm start: Java was not found: .*openjdk-17-jre-headless.*$/,
    );
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
