/**
 * End to end over HTTP with autocannon: the receiver under a real `serverless offline`, against
 * a minimal Node `http` server making the same DynamoDB writes (bench/minimal-receiver.ts, the
 * shape of the Hookdeck sample app from Okta's guide). Every request carries its own ids
 * (autocannon's `[<id>]` placeholder), so no delivery is a duplicate. Rounds alternate targets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_TABLE_NAME } from '../lib/config';
import { freePort, startServerlessOffline } from '../lib/local/local-stack';
import { PROJECT_ROOT } from '../lib/store/table-definition';
import { median, round } from './stats';
import { deliveryBody } from './workload';

export const BENCH_SECRET = 'Basic YmVuY2g6YmVuY2g=';

export interface HttpFigures {
  target: string;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function load(url: string, events: number, amount: number, connections: number) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    amount,
    timeout: 10,
    idReplacement: true,
    headers: { 'content-type': 'application/json', authorization: BENCH_SECRET },
    body: deliveryBody(events, '[<id>]'),
  });
  return {
    rps: (result.requests.total / result.duration) * 1, // duration is in seconds
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function startMinimalReceiver(port: number, endpoint: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(__dirname, 'minimal-receiver.ts')],
    {
      env: {
        ...process.env,
        PORT: String(port),
        DYNAMODB_ENDPOINT: endpoint,
        EVENTS_TABLE: DEFAULT_TABLE_NAME,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`minimal receiver exited with ${code}`)));
  });
  return child;
}

export async function measureEndToEnd(options: {
  dynamodbEndpoint: string;
  events: number;
  amount: number;
  connections: number;
  rounds: number;
}): Promise<{ offline: HttpFigures; minimal: HttpFigures }> {
  const offline = await startServerlessOffline({
    httpPort: await freePort(),
    env: {
      ...process.env,
      OKTA_AUTH_SECRET: BENCH_SECRET,
      DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  const minimalPort = await freePort();
  let minimal: ChildProcess | undefined;
  try {
    minimal = await startMinimalReceiver(minimalPort, options.dynamodbEndpoint);
    const targets = {
      'serverless offline': `${offline.url}/okta-webhooks-endpoint`,
      'minimal node http': `http://127.0.0.1:${minimalPort}/okta-webhooks-endpoint`,
    };
    const runs = new Map(
      Object.keys(targets).map((t) => [t, [] as Awaited<ReturnType<typeof load>>[]]),
    );
    // Warm-up: serverless offline builds and loads the handler on its first request.
    for (const url of Object.values(targets)) await load(url, options.events, 20, 2);
    for (let round = 0; round < options.rounds; round++) {
      const order = Object.entries(targets);
      if (round % 2 === 1) order.reverse();
      for (const [name, url] of order) {
        runs.get(name)!.push(await load(url, options.events, options.amount, options.connections));
      }
    }
    const figures = (target: string): HttpFigures => {
      const r = runs.get(target)!;
      return {
        target,
        deliveriesPerSecond: round(median(r.map((x) => x.rps)), 1),
        p50Ms: median(r.map((x) => x.p50)),
        p99Ms: median(r.map((x) => x.p99)),
        errors: r.reduce((n, x) => n + x.errors, 0),
      };
    };
    return { offline: figures('serverless offline'), minimal: figures('minimal node http') };
  } finally {
    if (minimal?.pid !== undefined && minimal.exitCode === null) {
      const exited = new Promise((resolve) => minimal!.once('exit', resolve));
      process.kill(minimal.pid, 'SIGTERM');
      await exited;
    }
    await offline.stop();
  }
}
