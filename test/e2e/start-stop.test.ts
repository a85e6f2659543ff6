/**
 * Stopping `npm start` (issue 18): Ctrl-C while a reconcile pass waits out a 429 that has no
 * rate-limit headers (a minute per wait, twenty waits), a second Ctrl-C when stopping hangs, and
 * a `kill -9` that leaves npm start no chance to stop what it started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPortFree, freePort } from '../../lib/local/local-stack';
import { oktaEvents } from '../../lib/okta-simulator/events';
import { type FakeOrg, startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import {
  type NpmStart,
  exitWithin,
  killGroupOrPid,
  npmStart,
  pidsOf,
  waitFor,
} from '../helpers/npm-start';
import { isRunning } from '../helpers/run';

const TOKEN = 'start-stop-test-token';
let dataDir: string;
let org: FakeOrg;
let run: NpmStart | undefined;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'okta-hooks-start-stop-'));
  org = await startFakeOktaOrg({ apiToken: TOKEN });
  org.addEvents(oktaEvents({ types: ['user.session.start'], count: 2 }));
  // Every logs request is refused 429 without X-Rate-Limit-Reset: the client waits 60 s each time.
  org.failNext(429, 100, { bare: true });
});
afterEach(async () => {
  if (run && run.child.exitCode === null && run.child.signalCode === null) {
    killGroupOrPid(run.child.pid!);
  }
  for (const pid of pidsOf(run?.output() ?? '')) killGroupOrPid(pid);
  run = undefined;
  rmSync(dataDir, { recursive: true, force: true });
  await org.stop();
});

async function startWaitingOn429(port?: number): Promise<NpmStart> {
  run = npmStart({
    PORT: String(port ?? (await freePort())),
    DYNAMODB_LOCAL_PORT: String(await freePort()),
    DYNAMODB_DATA_DIR: dataDir,
    OKTA_ORG_URL: org.url,
    OKTA_API_TOKEN: TOKEN,
  });
  const started = run;
  await waitFor(() => started.output().includes('Waiting for requests'), 120_000, 'npm start');
  await waitFor(() => org.requests.some((r) => r.status === 429), 30_000, 'the first 429');
  return started;
}

it('Ctrl-C aborts a reconcile pass waiting out a 429 and stops everything', async () => {
  const started = await startWaitingOn429();
  const pids = pidsOf(started.output());
  expect(pids).toHaveLength(2);
  // One Ctrl-C under npm start arrives twice: the terminal's to the group, then npm's forward.
  process.kill(-started.child.pid!, 'SIGINT');
  await waitFor(() => started.output().includes('Stopping...'), 30_000, 'the Ctrl-C');
  process.kill(started.child.pid!, 'SIGINT');
  // The pass would wait 60 s per 429, up to 20 times: stopping must not wait for it.
  expect(await exitWithin(started, 45_000)).toBe(0);
  expect(started.output()).toMatch(/Stopping\.\.\. \(Ctrl-C again stops at once\)/);
  expect(started.output()).toMatch(/reconcile 127\.0\.0\.1:\d+ deadline .*stopped on request/);
  await waitFor(() => pids.every((pid) => !isRunning(pid)), 10_000, 'the children to end');
}, 240_000);

it('a second Ctrl-C stops at once when stopping hangs', async () => {
  const started = await startWaitingOn429();
  const pids = pidsOf(started.output());
  expect(pids).toHaveLength(2);
  // serverless offline frozen: stopping it (and the stream runner invoking it) hangs.
  const offlinePid = pids[1]!;
  process.kill(-offlinePid, 'SIGSTOP');
  process.kill(-started.child.pid!, 'SIGINT');
  await waitFor(() => started.output().includes('Stopping...'), 30_000, 'the first Ctrl-C');
  // A second Ctrl-C, more than a second after the first (closer ones are the same Ctrl-C).
  await new Promise((r) => setTimeout(r, 1500));
  process.kill(-started.child.pid!, 'SIGINT');
  expect(await exitWithin(started, 30_000)).toBe(130);
  expect(started.output()).toContain('npm start: stopped at once (second Ctrl-C)');
  await waitFor(() => pids.every((pid) => !isRunning(pid)), 10_000, 'the children to end');
}, 240_000);

describe('after kill -9, nothing npm start started lives on holding a port', () => {
  it('of its whole process group (serverless offline has its own)', async () => {
    const port = await freePort();
    const started = await startWaitingOn429(port);
    const pids = pidsOf(started.output());
    expect(pids).toHaveLength(2);
    process.kill(-started.child.pid!, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !isRunning(pid)), 30_000, 'the children to end');
    await expect(assertPortFree(port, 'serverless offline')).resolves.toBeUndefined();
  }, 240_000);

  it('of scripts/start.ts alone (the watchdog, in a group of its own, sees it go)', async () => {
    const started = await startWaitingOn429();
    const pids = pidsOf(started.output());
    expect(pids).toHaveLength(2);
    process.kill(started.child.pid!, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !isRunning(pid)), 60_000, 'the children to end');
  }, 240_000);
});
