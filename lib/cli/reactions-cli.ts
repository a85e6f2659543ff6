/**
 * `npm run events -- reactions` and `redrive-reactions` (wired in events-cli.ts): what the
 * reactions did, and running the failed ones again. Reads the local table (DynamoDB Local, as
 * `npm start` runs it), a deployed stage's read API (--url), or for redrive a deployed stage's
 * table with your AWS credentials (--stage).
 *
 * redrive-reactions does not run reactions itself: it writes a redrive request per failed
 * outcome, which the react function (under npm start, or deployed) picks up from the table's
 * stream and runs with its own configuration and secrets; then it waits for the outcomes.
 */
import { escapeControls } from '../logger';
import { loadConfig } from '../config';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { MAX_LIMIT, type Page } from '../store/query-parameters';
import { type OutcomeQuery, OutcomeQueries } from '../reactions/outcome-queries';
import { OutcomeStore, type ReactionOutcome } from '../reactions/outcomes';
import { readApiCredentials } from '../read-api/read-api-credentials';
import { ReadApiClient } from '../read-api/read-api-client';

export interface ReactionsSource {
  listReactions(query: OutcomeQuery): Promise<Page<ReactionOutcome>>;
  eventReactions(uuid: string): Promise<ReactionOutcome[] | undefined>;
}

export interface ReactionsIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

function localConfig(env: NodeJS.ProcessEnv) {
  return loadConfig({
    ...env,
    DYNAMODB_ENDPOINT:
      env.DYNAMODB_ENDPOINT || `http://127.0.0.1:${env.DYNAMODB_LOCAL_PORT || 8000}`,
  });
}

/** A cell: control characters escaped (an event's type or a receiver's error could hold them). */
function column(value: string | undefined, width: number): string {
  const text = escapeControls(value ?? '-');
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** One line per outcome: when, status, reaction, attempts, event, and the last error. */
export function outcomeLine(o: ReactionOutcome, now = Date.now()): string {
  const stale =
    o.status === 'running' && o.leaseUntil !== undefined && Date.parse(o.leaseUntil) < now;
  return [
    column(o.updatedAt, 24),
    column(stale ? 'interrupted' : o.status, 11),
    column(o.reaction, 18),
    column(`attempts=${o.attempts}`, 12),
    column(o.uuid, 36),
    column(o.eventType, 32),
    escapeControls(o.lastError ?? ''),
  ]
    .join('  ')
    .trimEnd();
}

export async function listReactions(
  options: OutcomeQuery & { event?: string; wanted: number; json: boolean },
  remote: { url?: string; token?: string },
  env: NodeJS.ProcessEnv,
  io: ReactionsIo,
): Promise<number> {
  let source: ReactionsSource;
  let close = () => undefined as void;
  let where: string;
  if (remote.url) {
    source = new ReadApiClient(remote.url, readApiCredentials(remote.token, env));
    where = remote.url;
  } else {
    const config = localConfig(env);
    const client = createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS });
    const queries = new OutcomeQueries(client, config.tableName);
    source = {
      listReactions: (query) => queries.list(query),
      eventReactions: (uuid) => queries.forEvent(uuid),
    };
    close = () => client.destroy();
    where = `table ${config.tableName} at ${config.dynamodbEndpoint}`;
  }
  const print = (o: ReactionOutcome) => io.out(options.json ? JSON.stringify(o) : outcomeLine(o));
  try {
    if (options.event !== undefined) {
      const outcomes = await source.eventReactions(options.event);
      if (outcomes === undefined) {
        io.err(`No event with uuid ${options.event} in ${where}.`);
        return 1;
      }
      outcomes
        .filter((o) => options.status === undefined || o.status === options.status)
        .filter((o) => options.name === undefined || o.reaction === options.name)
        .forEach(print);
      if (outcomes.length === 0) io.err('No reaction ran on this event.');
      return 0;
    }
    let printed = 0;
    let cursor: string | undefined;
    for (let page = 1; ; page++) {
      const result = await source.listReactions({
        status: options.status,
        name: options.name,
        since: options.since,
        until: options.until,
        limit: Math.min(MAX_LIMIT, options.wanted - printed),
        cursor,
      });
      for (const outcome of result.items.slice(0, options.wanted - printed)) {
        print(outcome);
        printed++;
      }
      if (!result.nextCursor || printed >= options.wanted) break;
      cursor = result.nextCursor;
      io.err(`… ${printed} outcomes so far (page ${page}), fetching more`);
    }
    if (printed === 0) {
      io.err(options.status === 'failed' ? 'No failed reactions.' : 'No reaction outcomes match.');
    }
    return 0;
  } finally {
    close();
  }
}

/** Outcomes that need running again: failed, or running under a claim that ran out. */
async function redrivable(
  queries: OutcomeQueries,
  name: string | undefined,
  now: number,
): Promise<ReactionOutcome[]> {
  const found: ReactionOutcome[] = [];
  for (const status of ['failed', 'running'] as const) {
    let cursor: string | undefined;
    do {
      const page = await queries.list({ status, name, limit: MAX_LIMIT, cursor });
      found.push(
        ...page.items.filter(
          (o) =>
            o.status === 'failed' ||
            (o.status === 'running' &&
              o.leaseUntil !== undefined &&
              Date.parse(o.leaseUntil) < now),
        ),
      );
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return found;
}

export async function redriveReactions(
  options: { name?: string; stage?: string; waitSeconds: number },
  env: NodeJS.ProcessEnv,
  io: ReactionsIo,
): Promise<number> {
  const config = options.stage
    ? loadConfig({
        ...env,
        STAGE: options.stage,
        EVENTS_TABLE: `okta-events-${options.stage}`,
        DYNAMODB_ENDPOINT: '',
      })
    : localConfig(env);
  const client = createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS });
  const queries = new OutcomeQueries(client, config.tableName);
  const store = new OutcomeStore(client, config.tableName);
  const where = options.stage
    ? `table ${config.tableName} in ${config.region}`
    : `table ${config.tableName} at ${config.dynamodbEndpoint}`;
  try {
    const outcomes = await redrivable(queries, options.name, Date.now());
    if (outcomes.length === 0) {
      io.err(`No failed reactions${options.name ? ` of ${options.name}` : ''} in ${where}.`);
      return 0;
    }
    // The attempts each had: a run of the redrive request counts one more.
    const pending = new Map(outcomes.map((o) => [`${o.reaction}|${o.uuid}`, o]));
    for (const o of outcomes) await store.requestRedrive(o.uuid, o.reaction);
    const runner = options.stage ? `the react function of stage ${options.stage}` : 'npm start';
    io.err(
      `Asked ${runner} to run ${outcomes.length} reaction${outcomes.length === 1 ? '' : 's'} again` +
        (options.waitSeconds > 0
          ? `; waiting up to ${options.waitSeconds} s for the outcomes`
          : ''),
    );
    let succeeded = 0;
    let failed = 0;
    const deadline = Date.now() + options.waitSeconds * 1000;
    while (pending.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      for (const [key, before] of pending) {
        const now = await store.get(before.uuid, before.reaction);
        if (!now || now.status === 'running' || now.attempts <= before.attempts) continue;
        pending.delete(key);
        if (now.status === 'succeeded') succeeded++;
        else failed++;
        io.out(outcomeLine(now));
      }
    }
    const notYet =
      pending.size > 0
        ? `, ${pending.size} not run yet (they run when ${runner} reads the table's stream; \`npm run events -- reactions\` shows them)`
        : '';
    io.err(
      `Redrove ${outcomes.length} in ${where}: ${succeeded} succeeded, ${failed} failed again${notYet}.`,
    );
    return failed > 0 || pending.size > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}
