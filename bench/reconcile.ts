/**
 * `npm run bench:reconcile`: reconcile passes against the simulator's fake Okta org and DynamoDB
 * Local, in this process: a 10,000-event catch-up, recovery after a 20% drop of 2,000, and the
 * rate-limit share held with a small, compressed window; each followed by a second pass right
 * after. Prints events/s, requests per 1,000 events and the share of each rate-limit window used.
 * The milliseconds are this machine's; the request counts and shares travel.
 * Options: --events N (default 10000).
 */
import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../lib/config';
import { freePort, startDynamoDbLocal } from '../lib/local/local-stack';
import type { ParsedEvent } from '../lib/okta/okta-contract';
import { type FakeOrg, startFakeOktaOrg } from '../lib/okta-simulator/fake-org';
import { oktaEvents } from '../lib/okta-simulator/events';
import type { PassResult } from '../lib/reconcile/reconcile-pass';
import { Reconciler } from '../lib/reconcile/reconciler';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { EventStore } from '../lib/store/event-store';
import { ensureTable } from '../lib/store/table-definition';
import { round } from './stats';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '10000' } } });
const EVENTS = Number(args.events);
const TOKEN = 'bench-token';

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

interface Row {
  scenario: string;
  events: number;
  recovered: number;
  alreadyStored: number;
  requests: number;
  requestsPer1000: number;
  seconds: number;
  eventsPerSecond: number;
  peakShareOfWindow: number;
  /** A second pass right after the first. */
  nextPassRequests: number;
  nextPassStored: number;
}

/** Largest share of one rate-limit window the org saw used by /api/v1/logs requests. */
function peakShare(org: FakeOrg): number {
  const perWindow = new Map<number, number>();
  for (const r of org.requests.filter((q) => q.path === '/api/v1/logs')) {
    const window = Math.floor(r.at / org.rateLimit.windowMs);
    perWindow.set(window, (perWindow.get(window) ?? 0) + 1);
  }
  return Math.max(0, ...perWindow.values()) / org.rateLimit.limit;
}

/** One pass over `events` in a fresh fake org, into `table` (which may already hold some). */
async function scenario(
  name: string,
  client: DynamoDBClient,
  endpoint: string,
  table: string,
  events: readonly object[],
  rateLimit = { limit: 60, windowMs: 60_000 },
): Promise<Row> {
  const org = await startFakeOktaOrg({ apiToken: TOKEN, rateLimit });
  try {
    org.addEvents(events);
    const config = loadConfig({
      EVENTS_TABLE: table,
      DYNAMODB_ENDPOINT: endpoint,
      OKTA_ORG_URL: org.url,
      OKTA_API_TOKEN: TOKEN,
    });
    const reconciler = new Reconciler({ dynamodb: client });
    log(`${name}: ${events.length} events in the System Log…`);
    const pass = async () => {
      const started = performance.now();
      const result: PassResult = await reconciler.run(config);
      if (result.status !== 'caught-up')
        throw new Error(`${name}: ${result.status} ${result.reason}`);
      return { result, seconds: (performance.now() - started) / 1000 };
    };
    const { result, seconds } = await pass();
    const again = await pass(); // right after: from the cursor, nothing new
    const row: Row = {
      scenario: name,
      events: result.read,
      recovered: result.recovered,
      alreadyStored: result.alreadyStored,
      requests: result.requests,
      requestsPer1000: round((result.requests / Math.max(result.read, 1)) * 1000, 2),
      seconds: round(seconds, 1),
      eventsPerSecond: Math.round(result.read / seconds),
      peakShareOfWindow: round(peakShare(org), 2),
      nextPassRequests: again.result.requests,
      nextPassStored: again.result.recovered,
    };
    log(`  ${JSON.stringify(row)}`);
    return row;
  } finally {
    await org.stop();
  }
}

async function newTable(client: DynamoDBClient): Promise<string> {
  const table = `bench-reconcile-${Math.random().toString(36).slice(2)}`;
  await ensureTable(client, table);
  return table;
}

async function storeAsHook(client: DynamoDBClient, table: string, events: object[]) {
  const parsed = events.map((event) => ({ event, rawJson: JSON.stringify(event) }) as ParsedEvent);
  const store = new EventStore(client, table);
  for (let i = 0; i < parsed.length; i += 500) {
    await store.storeEvents(parsed.slice(i, i + 500), {
      origin: 'hook',
      receivedAt: new Date().toISOString(),
      expiresAt: undefined,
      deliveryId: `bench-${i}`,
    });
  }
}

async function main() {
  const dynamo = await startDynamoDbLocal({ port: await freePort() });
  const client = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint },
    { requestTimeoutMs: 30_000 },
  );
  const rows: Row[] = [];
  try {
    const types = ['user.session.start', 'user.authentication.sso'] as const;
    // The usual case first, on a still empty DynamoDB Local (a large one slows every write): the
    // hook delivered most events, Okta dropped a fifth of the deliveries.
    const dropTable = await newTable(client);
    const dropEvents = oktaEvents({ types, count: 2000 });
    log('2,000 events: storing four fifths as the hook would…');
    await storeAsHook(
      client,
      dropTable,
      dropEvents.filter((_, i) => i % 5 !== 0),
    );
    rows.push(
      await scenario('2,000 events, 20% dropped', client, dynamo.endpoint, dropTable, dropEvents),
    );
    // A catch-up: nothing stored yet (a first install, or an outage of the hook).
    const catchUpTable = await newTable(client);
    const catchUp = oktaEvents({ types, count: EVENTS });
    rows.push(
      await scenario(
        `catch-up of ${EVENTS} events`,
        client,
        dynamo.endpoint,
        catchUpTable,
        catchUp,
      ),
    );
    // The same 10,000, all stored, read again with a small compressed window: the pass must
    // wait for resets to keep to half of it.
    rows.push(
      await scenario(
        `${EVENTS} stored events, 10 requests a 5 s window`,
        client,
        dynamo.endpoint,
        catchUpTable,
        catchUp,
        { limit: 10, windowMs: 5000 },
      ),
    );
  } finally {
    client.destroy();
    await dynamo.stop();
  }

  console.log('Reconcile passes: fake Okta org + DynamoDB Local, in-process (this machine)\n');
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
