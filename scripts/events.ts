/**
 * `npm run events -- get <uuid>` and `npm run events -- list [--limit N]`: a first look at the
 * events stored in the local table (DynamoDB Local started by `npm start`).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config';
import { createDynamoDbClient } from '../lib/dynamodb';
import { eventJson } from '../lib/event-items';
import { reindentJson } from '../lib/json-text';
import { EventStore } from '../lib/event-store';

const USAGE = `Usage:
  npm run events -- get <uuid>          print the stored event, exactly as Okta sent it
  npm run events -- list [--limit N]    newest events first, one line each (default 20)

Reads the table of the local stage from DynamoDB Local (DYNAMODB_ENDPOINT, default
http://127.0.0.1:\${DYNAMODB_LOCAL_PORT:-8000}), which \`npm start\` runs.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const config = loadConfig({
    ...process.env,
    DYNAMODB_ENDPOINT:
      process.env.DYNAMODB_ENDPOINT ||
      `http://127.0.0.1:${process.env.DYNAMODB_LOCAL_PORT || 8000}`,
  });
  const store = new EventStore(createDynamoDbClient(config), config.tableName);
  try {
    switch (command) {
      case 'get': {
        const [uuid] = rest;
        if (!uuid || rest.length > 1) throw new UsageError('get takes exactly one event uuid');
        const item = await store.getEvent(uuid);
        if (!item) {
          console.error(`No event with uuid ${uuid} in table ${config.tableName}.`);
          return 1;
        }
        process.stdout.write(reindentJson(eventJson(item)) + '\n');
        return 0;
      }
      case 'list': {
        if (rest.length > 0)
          throw new UsageError(`list takes no arguments, got "${rest.join(' ')}"`);
        const limit = values.limit === undefined ? 20 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new UsageError('--limit must be a whole number from 1 to 1000');
        }
        const events = await store.listEvents(limit);
        if (events.length === 0) console.error(`No events in table ${config.tableName} yet.`);
        for (const e of events) {
          console.log(
            [e.uuid, e.published, e.eventType, e.actor ?? '-', e.firstTarget ?? '-'].join('  '),
          );
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } finally {
    store.client.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      console.error(`events: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    const name = (error as Error).name;
    if (name === 'ResourceNotFoundException') {
      console.error(
        'events: the table does not exist yet: start the service once with `npm start`.',
      );
    } else if (/ECONNREFUSED|TimeoutError|socket/i.test(`${name} ${(error as Error).message}`)) {
      console.error(
        `events: cannot reach DynamoDB Local at ${process.env.DYNAMODB_ENDPOINT || 'http://127.0.0.1:' + (process.env.DYNAMODB_LOCAL_PORT || 8000)}: is \`npm start\` running?`,
      );
    } else {
      console.error(`events: ${(error as Error).message}`);
    }
    process.exit(1);
  },
);
