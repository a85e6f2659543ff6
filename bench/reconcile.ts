/**
 * `npm run bench:reconcile`: reconcile passes against the simulator's fake Okta org and DynamoDB
 * Local, in this process: a 10,000-event catch-up, a pass over 10,000 events the hook already
 * stored, recovery after a 20% drop of 2,000, and the rate-limit share held with a small,
 * compressed window. Prints events/s, requests per 1,000 events and the share of each rate-limit window used.
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

async function scenario(
  name: string,
  client: DynamoDBClient,
  endpoint: string,
  setup: (org: FakeOrg, table: string) => Promise<number>,
  rateLimit = { limit: 60, windowMs: 60_000 },
): Promise<Row> {
  const table = `bench-reconcile-${Math.random().toString(36).slice(2)}`;
  await ensureTable(client, table);
  const org = await startFakeOktaOrg({ apiToken: TOKEN, rateLimit });
  try {
    const events = await setup(org, table);
    const config = loadConfig({
      EVENTS_TABLE: table,
      DYNAMODB_ENDPOINT: endpoint,
      OKTA_ORG_URL: org.url,
      OKTA_API_TOKEN: TOKEN,
    });
    log(`${name}: ${events} events in the System Log…`);
    const started = performance.now();
    const result: PassResult = await new Reconciler({ dynamodb: client }).run(config);
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 'caught-up')
      throw new Error(`${name}: ${result.status} ${result.reason}`);
    return {
      scenario: name,
      events: result.read,
      recovered: result.recovered,
      alreadyStored: result.alreadyStored,
      requests: result.requests,
      requestsPer1000: round((result.requests / result.read) * 1000, 2),
      seconds: round(seconds, 1),
      eventsPerSecond: Math.round(result.read / seconds),
      peakShareOfWindow: round(peakShare(org), 2),
    };
  } finally {
    await org.stop();
  }
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
    rows.push(
      await scenario(`catch-up of ${EVENTS} new events`, client, dynamo.endpoint, async (org) => {
        org.addEvents(oktaEvents({ types, count: EVENTS }));
        return EVENTS;
      }),
    );
    rows.push(
      await scenario(
        `${EVENTS} events the hook already stored`,
        client,
        dynamo.endpoint,
        async (org, table) => {
          const events = oktaEvents({ types, count: EVENTS });
          org.addEvents(events);
          log('  storing them as the hook would…');
          await storeAsHook(client, table, events);
          return EVENTS;
        },
      ),
    );
    rows.push(
      await scenario('2,000 events, 20% dropped', client, dynamo.endpoint, async (org, table) => {
        const events = oktaEvents({ types, count: 2000 });
        org.addEvents(events);
        await storeAsHook(
          client,
          table,
          events.filter((_, i) => i % 5 !== 0),
        );
        return 2000;
      }),
    );
    // Pages the stored check answers quickly, against a small compressed window: the pass must
    // wait for resets to keep to 50% of it.
    rows.push(
      await scenario(
        `${EVENTS} stored events, 10 requests a 5 s window`,
        client,
        dynamo.endpoint,
        async (org, table) => {
          const events = oktaEvents({ types, count: EVENTS });
          org.addEvents(events);
          log('  storing them as the hook would…');
          await storeAsHook(client, table, events);
          return EVENTS;
        },
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
