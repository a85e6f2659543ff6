/**
 * `npm run bench:counts`: what the event browser's count-over-time chart costs. Counting happens
 * at read time (EventQueries.countEvents): it reads the keys-only index entries (or user link
 * items) of the range. This fills a DynamoDB Local table with 1,000 and 100,000 simulator events
 * (the receiver's own items, written directly) and counts them for the four filter shapes,
 * printing the read units DynamoDB reports, the Query requests made and the time taken, next to
 * what counters written at store time would cost instead.
 *
 * The items are the receiver's, less the event JSON itself: counting reads only keys, and
 * DynamoDB Local ends keys-only index pages by the size of the whole item (about 400 of these
 * events a page) where DynamoDB ends them at 1 MB of keys (about 8,000). Without the JSON, the
 * pages, request counts and read units are DynamoDB's, and 100,000 events load in minutes.
 * Options: --sizes 1000,100000 (events per table).
 */
import { parseArgs } from 'node:util';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { freePort, startDynamoDbLocal } from '../lib/local/local-stack';
import { EVENT_TYPES, USERS, oktaEvents } from '../lib/okta-simulator/events';
import { parseDelivery } from '../lib/okta/okta-contract';
import {
  type EventOrigin,
  type Item,
  eventItem,
  userKeysOf,
  userLinkItems,
} from '../lib/store/event-items';
import { type CountQuery } from '../lib/store/event-counts';
import { EventQueries } from '../lib/store/event-queries';
import { ensureTable } from '../lib/store/table-definition';
import { round } from './stats';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,100000' } },
});
const SIZES = args.sizes!.split(',').map(Number);
/** us-east-1 on-demand, as bench/cost.ts: reads are a fifth of the price of writes. */
const PER_MILLION_READ_UNITS = 0.125;
const PER_MILLION_WRITE_UNITS = 0.625;

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

/** Writes items with BatchWriteItem, 8 requests in flight, retrying what is left unprocessed. */
async function writeAll(client: DynamoDBClient, table: string, items: Item[]): Promise<void> {
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  const queue = batches.values();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (const batch of queue) {
        let requests = batch.map((Item) => ({ PutRequest: { Item } }));
        while (requests.length > 0) {
          const { UnprocessedItems } = await client.send(
            new BatchWriteItemCommand({ RequestItems: { [table]: requests } }),
          );
          requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
        }
      }
    }),
  );
}

/** The table the receiver would have written for `count` simulator events. */
async function fill(client: DynamoDBClient, table: string, count: number) {
  const started = performance.now();
  const chunk = 1000;
  let userKeysPerEvent = 0;
  const until = new Date('2026-11-01T12:00:00Z');
  const all = oktaEvents({ types: EVENT_TYPES, count, until });
  for (let i = 0; i < all.length; i += chunk) {
    const events = all.slice(i, i + chunk);
    const delivery = parseDelivery(
      Buffer.from(JSON.stringify({ eventType: 'com.okta.event_hook', data: { events } })),
    );
    const origin: EventOrigin = {
      origin: 'hook',
      deliveryId: `bench-${i}`,
      receivedAt: until.toISOString(),
      expiresAt: undefined,
    };
    const items: Item[] = [];
    for (const parsed of delivery.events) {
      const { event: _json, ...item } = eventItem(parsed, origin)!;
      items.push(item, ...userLinkItems(parsed.event, undefined));
      userKeysPerEvent += userKeysOf(parsed.event).length;
    }
    await writeAll(client, table, items);
    if ((i / chunk) % 10 === 9) log(`  ${i + chunk} events written`);
  }
  return {
    since: all[0]!.published,
    seconds: round((performance.now() - started) / 1000, 1),
    userKeysPerEvent: userKeysPerEvent / count,
  };
}

interface Row {
  events: number;
  filter: string;
  counted: number;
  buckets: number;
  readUnits: number;
  queries: number;
  ms: number;
  dollarsPerThousandCharts: number;
}

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal({ port: await freePort() });
  const client = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint },
    { requestTimeoutMs: 30_000 },
  );
  let queries = 0;
  client.middlewareStack.add(
    (next, context) => (input) => {
      if (context.commandName === 'QueryCommand') queries++;
      return next(input);
    },
    { step: 'initialize', name: 'countQueries' },
  );
  const rows: Row[] = [];
  let userKeysPerEvent = 0;
  try {
    for (const size of SIZES) {
      const table = `counts-${size}`;
      await ensureTable(client, table);
      log(`Filling ${table} with ${size} simulator events...`);
      const filled = await fill(client, table, size);
      userKeysPerEvent = filled.userKeysPerEvent;
      log(`  written in ${filled.seconds} s`);
      const store = new EventQueries(client, table);
      const filters: [string, CountQuery][] = [
        ['all events', {}],
        ['one type', { type: 'user.session.start' }],
        ['one user', { user: USERS[0]!.login }],
        ['type and user', { type: 'user.session.start', user: USERS[0]!.login }],
      ];
      for (const [filter, query] of filters) {
        queries = 0;
        const started = performance.now();
        const counts = await store.countEvents(query);
        const ms = performance.now() - started;
        rows.push({
          events: size,
          filter,
          counted: counts.total,
          buckets: counts.buckets.length,
          readUnits: counts.readUnits,
          queries,
          ms: Math.round(ms),
          dollarsPerThousandCharts: round(
            (counts.readUnits * 1000 * PER_MILLION_READ_UNITS) / 1e6,
            5,
          ),
        });
      }
    }
  } finally {
    client.destroy();
    await dynamo.stop();
  }

  console.log('Counting at read time (events in table, filter → keys read, cost):');
  console.log(
    [
      'events',
      'filter',
      'counted',
      'bars',
      'read units',
      'queries',
      'ms',
      '$ per 1,000 charts',
    ].join('\t'),
  );
  for (const r of rows) {
    console.log(
      [
        r.events,
        r.filter,
        r.counted,
        r.buckets,
        r.readUnits,
        r.queries,
        r.ms,
        r.dollarsPerThousandCharts,
      ].join('\t'),
    );
  }
  // The alternative: a counter per (minute, filter value) bumped for every stored event.
  const writesPerEvent = 1 + 1 + userKeysPerEvent; // all, its type, each user it is about
  const perDay = 400_000;
  console.log(
    `\nCounters at store time instead: ${round(writesPerEvent, 1)} extra UpdateItems per event (all, type, ${round(userKeysPerEvent, 1)} user keys), ` +
      `${round(writesPerEvent, 1)} WRU; at Okta's cap of ${perDay.toLocaleString('en-US')} events/day: ` +
      `$${round((writesPerEvent * perDay * 30 * PER_MILLION_WRITE_UNITS) / 1e6, 2)} a month, charts viewed or not ` +
      `(and type+user would need a counter per pair).`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
