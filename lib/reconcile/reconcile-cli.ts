/**
 * `npm run reconcile` (also `npm run events -- reconcile`): one pass into the local table, from
 * the saved cursor, or from `--since` (importing history on first install), or over a bounded
 * window `--since`/`--until`. A progress line on stderr while a long run goes on, a summary line
 * at the end; exit 0 on success, 1 with one clear line on failure, 2 for a usage mistake.
 */
import { parseArgs } from 'node:util';
import { describeCliError } from '../cli/cli-errors';
import { loadConfig } from '../config';
import { ConfigError, OktaApiError, RequestError } from '../errors';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { parseTime } from '../store/query-parameters';
import type { PassResult } from './reconcile-pass';
import { Reconciler } from './reconciler';

export const USAGE = `Usage: npm run reconcile -- [--since S [--until U]]

One reconcile pass: reads the System Log of OKTA_ORG_URL and stores, in the local table, every
event the event hook missed (exactly as Okta returns it, never overwriting what the hook stored).

  (no option)  go on from the saved cursor; the first run starts SYSTEM_LOG_LOOKBACK_HOURS
               (default 24) back
  --since S    start at S (ISO 8601, at most 90 days back, the System Log's retention): imports
               history on first install; later runs go on from where this one ends
  --until U    with --since: a bounded window [S, U), read to its end; the cursor is neither
               read nor moved

Environment (or .env): OKTA_ORG_URL; OKTA_CLIENT_ID + OKTA_PRIVATE_KEY (a service app with
okta.logs.read) or OKTA_API_TOKEN; OKTA_EVENT_HOOK_ID or OKTA_EVENT_TYPES (default: every type).
The table is DynamoDB Local's (DYNAMODB_ENDPOINT, default http://127.0.0.1:8000), which
\`npm start\` runs. See docs/reconcile.md.`;

/** Okta keeps the System Log this long. */
const RETENTION_MS = 90 * 86_400_000;
/** Progress lines at most this often. */
const PROGRESS_EVERY_MS = 1000;

export class UsageError extends Error {}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

function time(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  try {
    return new Date(parseTime(value, name));
  } catch (error) {
    throw new UsageError(error instanceof RequestError ? error.message : String(error));
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(result: PassResult): string {
  const status = {
    'caught-up': 'caught up',
    done: 'window read to its end',
    deadline: 'stopped early',
    failed: 'FAILED',
  }[result.status];
  const parts = [
    `reconcile ${result.org}: ${status}`,
    `read ${plural(result.read, 'event')} in ${plural(result.pages, 'page')}`,
    `recovered ${result.recovered}`,
    `already stored ${result.alreadyStored}`,
  ];
  if (result.notStored > 0) parts.push(`not stored ${result.notStored}`);
  parts.push(`hook delivery failures ${result.hookDeliveryFailures}`);
  parts.push(
    `${plural(result.requests, 'request')} to Okta` +
      (result.tokenRequests > 0 ? ` (+${result.tokenRequests} token)` : '') +
      (result.rateLimited > 0 ? `, rate limited ${plural(result.rateLimited, 'time')}` : ''),
  );
  if (result.lagSeconds !== undefined) parts.push(`lag ${result.lagSeconds} s`);
  parts.push(`${(result.ms / 1000).toFixed(1)} s`);
  return parts.join(', ');
}

export async function runReconcileCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const since = time(values.since, '--since');
  const until = time(values.until, '--until');
  if (until && !since) throw new UsageError('--until needs --since: a window has two ends');
  if (since && until && since >= until)
    throw new UsageError('--since must be earlier than --until');

  const config = loadConfig({
    ...env,
    DYNAMODB_ENDPOINT:
      env.DYNAMODB_ENDPOINT || `http://127.0.0.1:${env.DYNAMODB_LOCAL_PORT || 8000}`,
  });
  if (!config.oktaOrgUrl) {
    throw new ConfigError(
      'OKTA_ORG_URL is not set: the org whose System Log to read, e.g. https://acme.okta.com (or the fake org of `npm run okta -- serve`)',
    );
  }
  if (since && since.getTime() < Date.now() - RETENTION_MS) {
    throw new ConfigError(
      `--since ${values.since} is older than the System Log's 90 days: the oldest that can be read is ${new Date(Date.now() - RETENTION_MS).toISOString().slice(0, 10)}`,
    );
  }

  const dynamodb = createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS });
  let lastProgress = Date.now();
  try {
    const result = await new Reconciler({ dynamodb }).run(config, {
      since,
      until,
      onPage: (progress) => {
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        io.err(
          `… page ${progress.pages}: read ${progress.read}, recovered ${progress.recovered}, already stored ${progress.alreadyStored}` +
            (progress.newestPublished ? `, up to ${progress.newestPublished}` : ''),
        );
      },
    });
    io.out(summaryLine(result));
    if (result.status === 'failed') {
      io.err(`reconcile: ${failureLine(result, env)}`);
      return 1;
    }
    return 0;
  } finally {
    dynamodb.destroy();
  }
}

/** Okta's words for Okta's refusals; the events CLI's for DynamoDB Local trouble. */
function failureLine(result: PassResult, env: NodeJS.ProcessEnv): string {
  const error = result.error;
  if (error instanceof OktaApiError || error instanceof ConfigError) return error.message;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return describeCliError(cause ?? error, env);
}
