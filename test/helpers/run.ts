/** Runs a project command (npm script entry points, the serverless CLI) and captures its output. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/store/table-definition';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function capture(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a timeout kills a pipeline's every process
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<RunResult> {
  return capture(process.execPath, args, env, timeoutMs);
}

/**
 * A TypeScript script of this project, run as `npm run -s <script> -- args | <consumer>` runs it:
 * its stdout is a real pipe (pipe(2), as a shell makes it), read by `consumer` (default `cat`,
 * e.g. `wc -c` or `head -1`). `stdout` is the consumer's output; `code` and `stderr` are the
 * script's own.
 */
export function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  consumer = 'cat',
): Promise<RunResult> {
  const tsx = join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs');
  return capture(
    'bash',
    [
      '-c',
      `"$@" | ${consumer}; exit "\${PIPESTATUS[0]}"`,
      'pipeline',
      process.execPath,
      tsx,
      join(PROJECT_ROOT, script),
      ...args,
    ],
    env,
    120_000,
  );
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
