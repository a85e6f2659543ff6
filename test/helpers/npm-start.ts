/** `npm start` (scripts/start.ts) in its own process group, as a terminal runs a foreground job. */
import { type ChildProcess, spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../lib/store/table-definition';

export interface NpmStart {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function npmStart(env: NodeJS.ProcessEnv): NpmStart {
  // What `npm start` runs (package.json): one process, no tsx CLI relaying signals to a child.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, OKTA_AUTH_SECRET: '', HOOKDECK_SIGNING_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitFor(predicate: () => boolean, ms: number, what = 'it'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves with the exit code, or rejects after `ms` (a bound for the test, not a verdict on speed). */
export function exitWithin(run: NpmStart, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    run.exited.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`npm start still ran ${ms / 1000} s later`)), ms);
    }),
  ]);
}

/** The pids npm start printed (DynamoDB Local's, serverless offline's). */
export function pidsOf(output: string): number[] {
  return [...output.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

/** SIGKILL to a process's group (serverless offline leads its own), else to the process. */
export function killGroupOrPid(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
      return;
    } catch {
      // no such group, or already gone
    }
  }
}
