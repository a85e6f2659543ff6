/**
 * `npm start`: DynamoDB Local (data kept in .dynamodb/), the table from serverless.yml, and
 * `serverless offline` on port 1337, with one readable line per request. Ctrl-C stops it all.
 */
import { join } from 'node:path';
import { type Config, hasAnySecret, loadConfig, shortReadTokenProblem } from '../lib/config';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../lib/store/dynamodb';
import { ConfigError } from '../lib/errors';
import {
  LocalStackError,
  assertJava,
  assertPortFree,
  killChildrenIfThisProcessDies,
  type RunningProcess,
  startDynamoDbLocal,
  startServerlessOffline,
} from '../lib/local/local-stack';
import { loadDotEnv } from '../lib/local/dot-env';
import { offlineInvoker, startStreamRunner } from '../lib/local/stream-runner';
import { startReconcileLoop } from '../lib/reconcile/reconcile-loop';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';
import { describeReactions } from '../lib/reactions/registry';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(`${name} must be a port number, got "${raw}"`);
  }
  return value;
}

/** serverless offline's own per-request chatter; the handler prints its own line instead. */
const OFFLINE_NOISE = [
  /^\s*$/,
  /\(λ: \w+\)/,
  /^(GET|POST|PUT|DELETE|PATCH|OPTIONS|ANY) \|/,
  /Offline \[http for lambda\]/,
];

/** Signals this close to the first are the same Ctrl-C (npm forwards what the group got). */
const SAME_CTRL_C_MS = 1000;

/** serverless.yml's `service`: function names are <service>-<stage>-<function>. */
const SERVICE = 'okta-event-hooks';

async function main(): Promise<void> {
  // A secret the shell exports wins over .env; otherwise the endpoint re-reads .env when it
  // changes (hook rotate-secret), with no restart.
  const reloadEnvFile = process.env.OKTA_AUTH_SECRET === undefined;
  loadDotEnv();
  // npm scripts run on the deployed runtime's Node (package.json's node-* packages); run directly on
  // an older Node, the SDK's upgrade notice is only noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const httpPort = port('PORT', 1337);
  const dynamoPort = port('DYNAMODB_LOCAL_PORT', 8000);
  const stage = 'local';
  const config = loadConfig({ ...process.env, STAGE: stage });
  const running: Pick<RunningProcess, 'stop'>[] = [];
  let reconcileLoop: { stop(): Promise<void> } | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // A reconcile pass is aborted (it may be waiting out a 429), then the stream runner stops
    // before the processes it reads from and invokes (running.reverse()).
    await reconcileLoop?.stop();
    for (const p of running.reverse()) await p.stop();
    // Not process.exit(): the process ends by itself once its output has drained (`| tee log`).
    process.exitCode = code;
  };
  let firstSignalAt = 0;
  const onSignal = () => {
    if (!stopping) {
      firstSignalAt = Date.now();
      console.log('Stopping... (Ctrl-C again stops at once)');
      void stopAll(0);
      return;
    }
    // One Ctrl-C can arrive twice: from the terminal to the whole group, and forwarded by npm.
    if (Date.now() - firstSignalAt < SAME_CTRL_C_MS) return;
    // The exit handler of local-stack.ts kills DynamoDB Local and serverless offline on the way out.
    console.error('npm start: stopped at once (second Ctrl-C)');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // After a kill -9 of npm start, nothing it started may live on holding a port.
  killChildrenIfThisProcessDies();
  // A kill -9 of the process that started this one (npm, or the tsx CLI) leaves it orphaned.
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid === parentPid || stopping) return;
    console.error('npm start: its parent process ended: stopping everything');
    void stopAll(1);
  }, 1000).unref();

  try {
    // Fail on a taken port or a missing Java before starting anything.
    assertJava();
    await assertPortFree(httpPort, 'serverless offline');
    const dataDir = process.env.DYNAMODB_DATA_DIR || join(PROJECT_ROOT, '.dynamodb');
    const dynamo = await startDynamoDbLocal({ port: dynamoPort, dataDir });
    running.push(dynamo);
    // Creating the table is not on Okta's clock: a busy laptop may take more than the 1 s a write gets.
    const client = createDynamoDbClient(
      { region: config.region, dynamodbEndpoint: dynamo.endpoint },
      { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS },
    );
    const created = await ensureTable(client, config.tableName);
    client.destroy();
    console.log(
      `DynamoDB Local on ${dynamo.endpoint}, table ${config.tableName} ${created ? 'created' : 'found'}, data in ${dataDir} (pid ${dynamo.pid})`,
    );

    const offline = await startServerlessOffline({
      httpPort,
      stage,
      env: {
        ...process.env,
        STAGE: stage,
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        LOG_FORMAT: 'pretty',
        AWS_REGION: config.region,
        ...(reloadEnvFile ? { LOCAL_ENV_FILE: join(PROJECT_ROOT, '.env') } : {}),
      },
      onLine: (line) => {
        if (!OFFLINE_NOISE.some((re) => re.test(line))) console.log(line);
      },
    });
    running.push(offline);
    console.log(`serverless offline on ${offline.url} (pid ${offline.pid})`);

    // The table's stream, as Lambda's event source mappings read it on AWS.
    const streamClient = createDynamoDbClient({
      region: config.region,
      dynamodbEndpoint: dynamo.endpoint,
    });
    const streams = await startStreamRunner({
      client: streamClient,
      endpoint: dynamo.endpoint,
      region: config.region,
      tableName: config.tableName,
      invoke: offlineInvoker(offline.lambdaPort, SERVICE, stage),
      checkpointFile: join(dataDir, 'stream-checkpoints.json'),
      onLine: (line) => console.log(line),
      onFailure: (failure) =>
        console.error(
          `stream: ${failure.consumer} gave up on ${failure.sequenceNumbers.length} record(s) after ${failure.attempts} attempts (${failure.error.slice(0, 200)}); nothing is lost: ${
            failure.consumer === 'react'
              ? '`npm run events -- reactions --failed` lists them, `npm run events -- redrive-reactions` runs them again'
              : '`npm run events -- redrive` stores them'
          }`,
        ),
    });
    running.push({
      stop: async () => {
        await streams.stop();
        streamClient.destroy();
      },
    });

    const endpoint = `http://localhost:${httpPort}${process.env.WEBHOOK_PATH || '/okta-webhooks-endpoint'}`;
    console.log(`
Okta event hook endpoint: ${endpoint}
  GET  verifies (X-Okta-Verification-Challenge), POST receives deliveries (their events are
       stored from the table's stream a moment later: a STORE line per delivery)
Put it on the internet for Okta:  hookdeck listen ${httpPort} okta --path ${new URL(endpoint).pathname}
Look at stored events:            npm run events -- list
Event browser:                    http://localhost:${httpPort}/ui${describeUiSignIn(config)}
Read API:                         http://localhost:${httpPort}/events (${describeReadApiAuth(config)})
Reactions:                        ${describeReactions(config)}
Ctrl-C stops everything.
`);
    if (!hasAnySecret(config)) {
      console.warn(
        '!!! WARNING: no OKTA_AUTH_SECRET or HOOKDECK_SIGNING_SECRET is set: this endpoint stores whatever anyone posts.\n' +
          "!!! Set OKTA_AUTH_SECRET in .env (the value of the hook's Authentication secret) before exposing it.",
      );
    }
    const shortToken = shortReadTokenProblem(config);
    if (shortToken) console.warn(`!!! WARNING: ${shortToken} (deployed stages refuse it).`);
    if (config.oktaOrgUrl && config.reconcileIntervalSeconds > 0) {
      // The scheduled function's job, in this process: a pass now, then every interval.
      reconcileLoop = startReconcileLoop(
        { ...config, dynamodbEndpoint: dynamo.endpoint, logFormat: 'pretty' },
        config.reconcileIntervalSeconds * 1000,
      );
      console.log(
        `Reconciling with ${config.oktaOrgUrl}'s System Log every ${config.reconcileIntervalSeconds} s (RECONCILE_INTERVAL_SECONDS; 0 turns it off)`,
      );
    }
    console.log('Waiting for requests...');
    void Promise.race([dynamo.exited, offline.exited]).then(() => {
      if (stopping) return;
      console.error(
        'npm start: DynamoDB Local or serverless offline stopped unexpectedly; stopping the rest.',
      );
      void stopAll(1);
    });
  } catch (error) {
    console.error(describeStartError(error));
    await stopAll(1);
  }
}

function describeStartError(error: unknown): unknown {
  return error instanceof LocalStackError || error instanceof ConfigError
    ? `npm start: ${error.message}`
    : error;
}

/** How the event browser is signed in to, as the start banner says it. */
function describeUiSignIn(config: Config): string {
  const ways: string[] = [];
  if (config.signIn.issuer && config.signIn.uiClientId)
    ways.push(`Okta at ${config.signIn.issuer}`);
  if (config.eventsApiTokens.length > 0 && config.signIn.uiTokenSignIn)
    ways.push('EVENTS_API_TOKEN');
  return ways.length > 0 ? ` (sign in with ${ways.join(' or ')})` : '';
}

/** What the read API accepts: open only with neither a static token nor an issuer. */
function describeReadApiAuth(config: Config): string {
  const ways: string[] = [];
  if (config.eventsApiTokens.length > 0 && config.signIn.readApiStaticTokens)
    ways.push('Authorization: Bearer $EVENTS_API_TOKEN');
  if (config.signIn.issuer) ways.push(`an access token from ${config.signIn.issuer}`);
  if (config.signIn.issuer && config.signIn.uiClientId) ways.push("the event browser's session");
  return ways.length > 0 ? ways.join(', or ') : 'open: no EVENTS_API_TOKEN or OKTA_ISSUER set';
}

main().catch((error: unknown) => {
  console.error(describeStartError(error));
  process.exitCode = 1;
});
