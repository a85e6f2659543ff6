/**
 * `npm run events -- list | get | deliveries | delivery`: finds and reviews stored events, from the local
 * table (DynamoDB Local, as `npm start` runs it) or from a deployed stage's read API (--url).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { type DeliveryRecord, carriedUuids, parseDeliveryStatus } from '../store/delivery-queries';
import { EventQueries } from '../store/event-queries';
import { MAX_LIMIT, type Page, checkRange, parseTime } from '../store/query-parameters';
import { compactJson, reindentJson } from '../okta/json-text';
import { escapeControls, sliceForLog } from '../logger';
import { printableJson, quoted } from '../printable';
import { ReadApiClient } from '../read-api/read-api-client';
import { readApiCredentials } from '../read-api/read-api-credentials';
import { storeReceivedDelivery, storesFor } from '../stream/store-deliveries';
import { REACTION_NAME } from '../reactions/reaction';
import { listReactions, redriveReactions } from './reactions-cli';

export const USAGE = `Usage:
  npm run events -- list [--type T] [--user U] [--since S] [--until S] [--limit N | --all] [--json]
  npm run events -- get <uuid> [--json]
  npm run events -- deliveries [--status S] [--since S] [--until S] [--limit N | --all] [--json]
  npm run events -- delivery <id> [--json]
  npm run events -- redrive [--since S] [--until S] [--stage STAGE]
  npm run events -- reconcile [--since S [--until U]]   (the same as npm run reconcile)
  npm run events -- reactions [--failed] [--name N] [--event UUID] [--since S] [--until S] [--limit N | --all] [--json]
  npm run events -- redrive-reactions [--name N] [--stage STAGE] [--wait SECONDS]

  --type T     events of one eventType, e.g. user.session.start
  --user U     events whose actor or a User target is U (Okta id or login, any case)
  --since S    from this time, inclusive (ISO 8601: 2026-11-01, a day in UTC, or
               2026-11-01T08:00:00Z; a time of day needs Z or an offset such as +02:00)
  --until S    up to this time, exclusive
  --limit N    print at most N, newest first (default 50); --all prints every match
  --status S   deliveries only: received (not yet stored), stored or rejected
  --json       one JSON object per line (events exactly as Okta sent them)
  --stage S    redrive only: the deployed stage's table (okta-events-S) with your AWS credentials
  --url URL    read a deployed stage through its read API (or EVENTS_API_URL)
  --token T    the read API's bearer token (or EVENTS_API_TOKEN): a static token or an Okta
               access token; with neither, OKTA_ISSUER + OKTA_CLIENT_ID + OKTA_PRIVATE_KEY get
               one by client credentials (docs/finding-events.md)

delivery shows one request as received (kept headers, never the authentication header; the
body exactly as sent), its status, attempts, the uuids it carried and how long storing took.

redrive stores the events of deliveries still "received" (their stream retries ran out):
safe to run at any time, twice changes nothing. A delivery it cannot store is printed as
failed with the reason; the others are still stored, and the exit code is 1.

reactions lists what the reactions did (docs/reactions.md), newest first: --failed only the
failed ones, --name N one reaction, --event UUID the outcomes of one event.
redrive-reactions asks the react function (npm start, or the stage's with --stage) to run the
failed ones again and waits --wait seconds (default 60) for their outcomes; twice changes
nothing, a reaction never runs twice to success.

Without --url, reads the local table from DynamoDB Local (DYNAMODB_ENDPOINT, default
http://127.0.0.1:8000), which \`npm start\` runs.`;

export class UsageError extends Error {}

export interface EventsSource {
  getEventJson(uuid: string): Promise<string | undefined>;
  listEvents(query: Parameters<EventQueries['listEvents']>[0]): Promise<Page<string>>;
  listDeliveries(
    query: Parameters<EventQueries['listDeliveries']>[0],
  ): Promise<Page<DeliveryRecord>>;
  getDelivery(id: string): Promise<(DeliveryRecord & { body: string }) | undefined>;
}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const OPTIONS = {
  type: { type: 'string' },
  user: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  stage: { type: 'string' },
  status: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  // reactions, redrive-reactions
  failed: { type: 'boolean' },
  name: { type: 'string' },
  event: { type: 'string' },
  wait: { type: 'string' },
} as const;

function localConfig(env: NodeJS.ProcessEnv) {
  return loadConfig({
    ...env,
    DYNAMODB_ENDPOINT:
      env.DYNAMODB_ENDPOINT || `http://127.0.0.1:${env.DYNAMODB_LOCAL_PORT || 8000}`,
  });
}

/** The local table in DynamoDB Local, as `npm start` runs it. */
export function localEventsSource(env: NodeJS.ProcessEnv): {
  source: EventsSource;
  close(): void;
  where: string;
} {
  const config = localConfig(env);
  const client = createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS });
  return {
    source: new EventQueries(client, config.tableName),
    close: () => client.destroy(),
    where: `table ${config.tableName} at ${config.dynamodbEndpoint}`,
  };
}

/**
 * A field as one line of text: strings as they are, any other JSON value (Okta may send a number
 * or an object where a string is usual) as JSON, and control characters escaped so that a field
 * cannot move the cursor or forge a row.
 */
function fieldText(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  return escapeControls(typeof value === 'string' ? value : JSON.stringify(value));
}

function column(value: unknown, width: number): string {
  const text = fieldText(value);
  const cut = text.length > width ? sliceForLog(text, width - 1) : text;
  return cut === text ? text.padEnd(width) : cut;
}

type Entity = { alternateId?: unknown; id?: unknown; displayName?: unknown } | null | undefined;

function eventLine(json: string): string {
  const e = JSON.parse(json) as {
    uuid: unknown;
    published: unknown;
    eventType: unknown;
    actor?: Entity;
    target?: unknown;
  };
  const target = (Array.isArray(e.target) ? e.target[0] : undefined) as Entity;
  return [
    column(e.uuid, 36),
    column(e.published, 24),
    column(e.eventType, 36),
    column(e.actor?.alternateId ?? e.actor?.id, 32),
    fieldText(target?.alternateId ?? target?.displayName ?? target?.id),
  ].join('  ');
}

function deliveryLine(d: DeliveryRecord): string {
  return [
    column(d.firstReceivedAt, 24),
    column(d.deliveryId, 36),
    column(d.status, 8),
    d.status === 'stored'
      ? `events=${d.eventCount} stored=${d.storedCount ?? 0} duplicates=${d.duplicateCount ?? 0} attempts=${d.attempts}`
      : `events=${d.eventCount} attempts=${d.attempts}`,
    fieldText(d.eventTypes.join(',')),
  ].join('  ');
}

/** `delivery <id>`: the request as received, then what became of it. */
function deliveryText(d: DeliveryRecord & { body: string }): string {
  const rows: Array<[string, unknown]> = [
    ['delivery', d.deliveryId],
    ['eventId', d.eventId !== undefined && d.eventId !== d.deliveryId ? d.eventId : undefined],
    ['status', d.status + (d.rejectReason ? ` (${d.rejectReason})` : '')],
    ['received', d.firstReceivedAt],
    ['attempts', d.attempts > 1 ? `${d.attempts} (last ${d.lastReceivedAt})` : d.attempts],
    ['from', [d.caller, d.sourceIp].filter(Boolean).join(' ')],
    ['request id', d.requestId],
    ['hookdeck', d.hookdeckEventId],
    ['source', d.source],
    ['eventTime', d.eventTime],
    ['events', `${d.eventCount}: ${d.eventTypes.join(', ')}`],
    [
      'same id as',
      d.sameEventIdAs && `${d.sameEventIdAs} (its eventId came first with another body)`,
    ],
    ['other body', d.otherBodies?.length ? otherBodiesText(d.otherBodies) : undefined],
  ];
  if (d.status === 'stored') {
    rows.push(['stored', `${d.storedCount ?? 0} new, ${d.duplicateCount ?? 0} already stored`]);
    if (d.conflictCount) {
      const listed = d.conflictUuids ?? [];
      const more = d.conflictCount > listed.length ? `, +${d.conflictCount - listed.length}` : '';
      rows.push([
        'conflicts',
        `${d.conflictCount} with other text than the text stored first, which was kept: ${listed.join(', ')}${more}`,
      ]);
    }
    if (d.storedAt) {
      const after = Date.parse(d.storedAt) - Date.parse(d.firstReceivedAt);
      const took = d.storeMs === undefined ? '' : `, storing took ${d.storeMs} ms`;
      rows.push(['stored at', `${d.storedAt} (${after} ms after receipt${took})`]);
    }
  }
  const out = rows
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([name, value]) => `${name.padEnd(11)} ${fieldText(value)}`);
  let uuids: string[] = [];
  try {
    uuids = carriedUuids(Buffer.from(d.body, 'utf8'));
  } catch {
    // A rejected body may not parse: it carries no events.
  }
  if (uuids.length > 0) out.push('uuids', ...uuids.map((uuid) => `  ${fieldText(uuid)}`));
  const headers = Object.entries(d.headers).sort(([a], [b]) => (a < b ? -1 : 1));
  out.push('', `POST /okta-webhooks-endpoint (headers kept; never the authentication header)`);
  for (const [name, value] of headers) out.push(`${fieldText(name)}: ${fieldText(value)}`);
  out.push('', `body as received (${d.bodyBytes ?? Buffer.byteLength(d.body)} bytes):`);
  // Verbatim, only made safe for a terminal: a valid body's raw controls are whitespace.
  out.push(d.status === 'rejected' ? escapeControls(d.body) : printableJson(d.body));
  return out.join('\n');
}

/** The deliveries that came with this one's eventId but another body: each kept on its own. */
function otherBodiesText(ids: string[]): string {
  const which = ids.length === 1 ? 'another delivery' : `${ids.length} other deliveries`;
  return `${ids.join(', ')} (the same eventId with another body: ${which}, see delivery <id>)`;
}

/** Pages through a listing until `wanted` items (Infinity for --all), with progress on stderr. */
async function paginate<T>(
  fetchPage: (limit: number, cursor: string | undefined) => Promise<Page<T>>,
  wanted: number,
  print: (item: T) => void,
  io: CliIo,
  noun: string,
): Promise<number> {
  let printed = 0;
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    const result = await fetchPage(Math.min(MAX_LIMIT, wanted - printed), cursor);
    for (const item of result.items.slice(0, wanted - printed)) {
      print(item);
      printed++;
    }
    if (!result.nextCursor || printed >= wanted) return printed;
    cursor = result.nextCursor;
    io.err(`… ${printed} ${noun} so far (page ${page}), fetching more`);
  }
}

export async function runEventsCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  if (argv[0] === 'reconcile') {
    // Its own options and messages (lib/reconcile/reconcile-cli.ts); usage mistakes stay usage mistakes.
    const { runReconcileCli, UsageError: ReconcileUsage } =
      await import('../reconcile/reconcile-cli');
    const { loadDotEnv } = await import('../local/dot-env');
    const withDotEnv = { ...env };
    loadDotEnv(withDotEnv); // as npm run reconcile and npm start read it
    try {
      return await runReconcileCli(argv.slice(1), withDotEnv, io);
    } catch (error) {
      if (error instanceof ReconcileUsage) throw new UsageError(error.message);
      throw error;
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { positionals, values } = parsed;
  const [command, ...rest] = positionals;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (command === undefined) throw new UsageError('no command given');
  if (!['list', 'get', 'delivery', 'deliveries', 'redrive', ...REACTION_COMMANDS].includes(command))
    throw new UsageError(`unknown command "${command}"`);
  if (command !== 'get' && command !== 'delivery' && rest.length > 0)
    throw new UsageError(`${command} takes no arguments, got "${rest.join(' ')}"`);
  if (command !== 'list' && (values.type !== undefined || values.user !== undefined)) {
    throw new UsageError(`--type and --user apply to list only`);
  }
  if (command !== 'deliveries' && values.status !== undefined) {
    throw new UsageError('--status applies to deliveries only');
  }
  const status =
    values.status === undefined ? undefined : parseDeliveryStatus(values.status, '--status');
  if (values.all && values.limit !== undefined)
    throw new UsageError('give --limit or --all, not both');

  const range = {
    since: values.since === undefined ? undefined : parseTime(values.since, '--since'),
    until: values.until === undefined ? undefined : parseTime(values.until, '--until'),
  };
  checkRange(range);
  const wanted = values.all
    ? Infinity
    : values.limit === undefined
      ? 50
      : limitOption(values.limit);

  if (REACTION_COMMANDS.includes(command))
    return reactionCommand(command, values, range, wanted, env, io);
  for (const option of ['failed', 'name', 'event', 'wait'] as const) {
    if (values[option] !== undefined)
      throw new UsageError(`--${option} applies to reactions and redrive-reactions only`);
  }

  if (command === 'redrive') {
    if (values.url !== undefined)
      throw new UsageError('redrive writes to the table: use --stage, not --url');
    return redrive(range, values.stage, env, io);
  }
  if (values.stage !== undefined) throw new UsageError('--stage applies to redrive only');

  const url = values.url ?? env.EVENTS_API_URL;
  const local = url ? undefined : localEventsSource(env);
  const source: EventsSource =
    local?.source ??
    new ReadApiClient(url!, readApiCredentials(values.token ?? env.EVENTS_API_TOKEN, env));
  try {
    switch (command) {
      case 'get': {
        const [uuid] = rest;
        if (!uuid || rest.length > 1) throw new UsageError('get takes exactly one event uuid');
        const json = await source.getEventJson(uuid);
        if (json === undefined) {
          io.err(`No event with uuid ${uuid} in ${local ? local.where : url}.`);
          return 1;
        }
        io.out(values.json ? compactJson(json) : printableJson(reindentJson(json)));
        return 0;
      }
      case 'list': {
        const printed = await paginate(
          (limit, cursor) =>
            source.listEvents({ ...range, type: values.type, user: values.user, limit, cursor }),
          wanted,
          (json) => io.out(values.json ? compactJson(json) : eventLine(json)),
          io,
          'events',
        );
        if (printed === 0) io.err('No events match.');
        return 0;
      }
      case 'delivery': {
        const [id] = rest;
        if (!id || rest.length > 1) throw new UsageError('delivery takes exactly one delivery id');
        const found = await source.getDelivery(id);
        if (found === undefined) {
          io.err(`No delivery with id ${quoted(id)} in ${local ? local.where : url}.`);
          return 1;
        }
        io.out(values.json ? JSON.stringify(found) : deliveryText(found));
        return 0;
      }
      default: {
        const printed = await paginate(
          (limit, cursor) => source.listDeliveries({ ...range, status, limit, cursor }),
          wanted,
          (d) => io.out(values.json ? JSON.stringify(d) : deliveryLine(d)),
          io,
          'deliveries',
        );
        if (printed === 0) io.err('No deliveries match.');
        return 0;
      }
    }
  } finally {
    local?.close();
  }
}

/** Re-stores every delivery in the range still `received`, newest first, one line each. */
async function redrive(
  range: { since?: string; until?: string },
  stage: string | undefined,
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  const config = stage
    ? loadConfig({
        ...env,
        STAGE: stage,
        EVENTS_TABLE: `okta-events-${stage}`,
        DYNAMODB_ENDPOINT: '',
      })
    : localConfig(env);
  const stores = storesFor({ ...config, logFormat: 'json' });
  const queries = new EventQueries(stores.events.client, config.tableName);
  const where = stage
    ? `table ${config.tableName} in ${config.region}`
    : `table ${config.tableName} at ${config.dynamodbEndpoint}`;
  let found = 0;
  let failed = 0;
  let stored = 0;
  let duplicates = 0;
  try {
    let cursor: string | undefined;
    do {
      const page = await queries.listDeliveries({ ...range, limit: MAX_LIMIT, cursor });
      for (const record of page.items.filter((d) => d.status === 'received')) {
        const head = await stores.deliveries.get(record.deliveryId);
        if (head?.status?.S !== 'received') continue; // stored meanwhile by the stream
        found++;
        const when = `${fieldText(record.firstReceivedAt)}  ${fieldText(record.deliveryId)}`;
        let outcome;
        try {
          // Quiet: the summary line per delivery below is the CLI's own.
          outcome = await storeReceivedDelivery(head, stores, {
            logFormat: 'json',
            stage: config.stage,
            quiet: true,
          });
        } catch (error) {
          // One delivery that cannot be stored must not keep the others waiting: name it, go on.
          failed++;
          const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          io.out(`${when}  failed  ${fieldText(reason.slice(0, 500))}`);
          continue;
        }
        stored += outcome.storedCount;
        duplicates += outcome.duplicateCount;
        io.out(
          `${when}  ${outcome.status}  stored=${outcome.storedCount} duplicates=${outcome.duplicateCount}`,
        );
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  } finally {
    stores.events.client.destroy();
  }
  const failures =
    failed === 0
      ? ''
      : `; ${failed} deliver${failed === 1 ? 'y' : 'ies'} could not be stored (listed as failed above)`;
  io.err(
    found === 0
      ? `No delivery waiting to be stored in ${where}.`
      : `Redrove ${found} deliver${found === 1 ? 'y' : 'ies'} in ${where}: ${stored} events stored, ${duplicates} duplicates${failures}.`,
  );
  return failed === 0 ? 0 : 1;
}

const REACTION_COMMANDS = ['reactions', 'redrive-reactions'];

/** reactions and redrive-reactions: their options checked, then lib/cli/reactions-cli.ts. */
function reactionCommand(
  command: string,
  values: { [name: string]: string | boolean | undefined },
  range: { since?: string; until?: string },
  wanted: number,
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  const name = values.name === undefined ? undefined : reactionNameOption(values.name as string);
  if (command === 'redrive-reactions') {
    for (const option of ['failed', 'event', 'url', 'json', 'since', 'until', 'limit', 'all']) {
      if (values[option] !== undefined)
        throw new UsageError(`redrive-reactions takes --name, --stage and --wait, not --${option}`);
    }
    const wait = values.wait === undefined ? 60 : Number(values.wait);
    if (!/^\d+$/.test(String(values.wait ?? '60')) || wait > 3600)
      throw new UsageError(
        `--wait must be a whole number of seconds up to 3600, got "${values.wait}"`,
      );
    return redriveReactions(
      { name, stage: values.stage as string | undefined, waitSeconds: wait },
      env,
      io,
    );
  }
  if (values.stage !== undefined)
    throw new UsageError('--stage applies to redrive and redrive-reactions only');
  if (values.wait !== undefined) throw new UsageError('--wait applies to redrive-reactions only');
  return listReactions(
    {
      ...range,
      status: values.failed ? 'failed' : undefined,
      name,
      event: values.event as string | undefined,
      wanted,
      json: values.json === true,
    },
    {
      url: (values.url as string | undefined) ?? env.EVENTS_API_URL,
      token: (values.token as string | undefined) ?? env.EVENTS_API_TOKEN,
    },
    env,
    io,
  );
}

function reactionNameOption(value: string): string {
  if (!REACTION_NAME.test(value))
    throw new UsageError(
      `--name must be a reaction name such as forward, got "${value.slice(0, 70)}"`,
    );
  return value;
}

function limitOption(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1)
    throw new UsageError(`--limit must be a whole number of 1 or more, got "${value}"`);
  return limit;
}
