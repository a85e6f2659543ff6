/**
 * Reconcile passes against DynamoDB Local and the simulator's fake Okta org over real HTTP:
 * first-run lookback, exact bytes, first receipt kept, resume after a crash between a page's
 * writes and its cursor save, 429s, late events, the hook's own types, the deadline, and the
 * scheduled handler (SSM secrets, one log line, metrics, no secret anywhere).
 */
import { generateKeyPairSync } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type Config, loadConfig } from '../../lib/config';
import type { ParsedEvent } from '../../lib/okta/okta-contract';
import {
  type FakeOrg,
  type FakeOrgOptions,
  startFakeOktaOrg,
} from '../../lib/okta-simulator/fake-org';
import { type LogEvent, oktaEvents } from '../../lib/okta-simulator/events';
import { hookDeliveryFailureEvent } from '../../lib/okta-simulator/system-log-recorder';
import { cursorKey } from '../../lib/reconcile/cursor-store';
import { createReconcileHandler } from '../../lib/reconcile/reconcile-handler';
import { type PassOptions, reconcilePass } from '../../lib/reconcile/reconcile-pass';
import { Reconciler, createSystemLogClient } from '../../lib/reconcile/reconciler';
import { SecretResolver } from '../../lib/secrets';
import { eventJson } from '../../lib/store/event-items';
import { EventStore } from '../../lib/store/event-store';
import { asFunction } from '../helpers/as-function';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';
import { type FakeSsm, startFakeSsm } from '../helpers/fake-ssm';

const TOKEN = '00reconcile-test-token-5e9d1a';
const HOOK_ID = 'who7hphp39JoHLni81d7';
const CLIENT_ID = '0oareconcilerapp1d7';
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_JWK = JSON.stringify(keys.privateKey.export({ format: 'jwk' })); // holds commas

let db: TestDynamoDb;
let ssm: FakeSsm;
let table: string;
let fake: FakeOrg;
beforeAll(async () => {
  db = await startTestDynamoDb();
  ssm = await startFakeSsm();
});
afterAll(async () => {
  await ssm?.stop();
  await db?.stop();
});
async function org(options: FakeOrgOptions = {}) {
  fake = await startFakeOktaOrg({
    apiToken: TOKEN,
    clients: [{ clientId: CLIENT_ID, publicKey: keys.publicKey }],
    eventHooks: { [HOOK_ID]: ['user.lifecycle.create'] },
    ...options,
  });
  return fake;
}
beforeEach(async () => {
  table = await db.newTable();
  await org();
});
afterEach(async () => {
  jest.restoreAllMocks();
  await fake?.stop();
});

function configFor(env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    EVENTS_TABLE: table,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    OKTA_ORG_URL: fake.url,
    OKTA_API_TOKEN: TOKEN,
    ...env,
  });
}
const pass = (env: NodeJS.ProcessEnv = {}, options = {}) =>
  new Reconciler({ dynamodb: db.client }).run(configFor(env), options);

async function storedEvents(client: DynamoDBClient = db.client) {
  const items = await allItems(client, table);
  return items.filter((i) => i.pk?.S?.startsWith('EVENT#'));
}
const logRequests = () => fake.requests.filter((r) => r.path === '/api/v1/logs');
const events = (count: number, types: LogEvent['eventType'][] = ['user.session.start']) =>
  oktaEvents({ types: types as never, count });

it('first run reads SYSTEM_LOG_LOOKBACK_HOURS back, stores each event exactly as Okta returned it', async () => {
  const old = events(3);
  const recent: Array<string | LogEvent> = events(119, [
    'user.session.start',
    'user.lifecycle.create',
  ]);
  // Text that a parse and re-serialisation would change: a number beyond 2^53, an escape.
  const [odd] = events(1);
  recent.push(
    JSON.stringify(odd).replace(
      '"version":"0"',
      '"version":"0","big":12345678901234567890,"name":"caf\\u00e9"',
    ),
  );
  fake.addEvents(old, Date.now() - 30 * 3_600_000);
  fake.addEvents(recent, Date.now() - 2 * 3_600_000);

  const result = await pass();
  expect(result).toMatchObject({
    status: 'caught-up',
    from: 'lookback',
    read: 120,
    recovered: 120,
    alreadyStored: 0,
    requests: 2, // one page of events, one empty page
  });
  const since = Date.parse(logRequests()[0]!.query.get('since')!);
  expect(Math.abs(since - (Date.now() - 24 * 3_600_000))).toBeLessThan(60_000);

  const stored = await storedEvents();
  expect(stored).toHaveLength(120);
  const texts = new Map(fake.eventTexts().map((t) => [JSON.parse(t).uuid as string, t]));
  for (const item of stored) {
    expect(eventJson(item)).toBe(texts.get(item.uuid!.S!)); // byte for byte
    expect(item.origin).toEqual({ S: 'systemLog' });
  }
  expect(new Set(stored.map((i) => i.uuid!.S))).toEqual(
    new Set([...recent.slice(0, 119).map((e) => (e as LogEvent).uuid), odd!.uuid]),
  );
  expect(eventJson(stored.find((i) => i.uuid!.S === odd!.uuid)!)).toContain(
    '"big":12345678901234567890,"name":"caf\\u00e9"',
  );
});

it('keeps what the hook stored first and counts only the rest as recovered; a second pass reads one empty page', async () => {
  const all = events(300);
  fake.addEvents(all);
  const store = new EventStore(db.client, table);
  const hookReceivedAt = '2026-01-01T00:00:00.000Z';
  const delivered: ParsedEvent[] = all
    .filter((_, i) => i % 3 !== 0)
    .map((event) => ({ event: event as never, rawJson: JSON.stringify(event) }));
  await store.storeEvents(delivered, {
    origin: 'hook',
    receivedAt: hookReceivedAt,
    expiresAt: undefined,
    deliveryId: 'delivery-1',
  });

  const first = await pass();
  expect(first).toMatchObject({
    status: 'caught-up',
    read: 300,
    recovered: 100,
    alreadyStored: 200,
  });
  const stored = await storedEvents();
  expect(stored).toHaveLength(300);
  const hookUuids = new Set(delivered.map((p) => p.event.uuid));
  for (const item of stored) {
    const byHook = hookUuids.has(item.uuid!.S!);
    expect(item.origin).toEqual({ S: byHook ? 'hook' : 'systemLog' });
    if (byHook) expect(item.receivedAt).toEqual({ S: hookReceivedAt }); // not overwritten
  }

  const before = fake.requests.length;
  const second = await pass();
  expect(second).toMatchObject({
    status: 'caught-up',
    from: 'cursor',
    read: 0,
    recovered: 0,
    requests: 1,
  });
  expect(fake.requests.length - before).toBe(1);
});

describe('resuming after a crash between a page’s writes and its cursor save', () => {
  it.each([
    ['after all its writes', 10],
    ['half-way through its writes', 4],
  ])(
    '%s: nothing lost, nothing stored twice, one page read again',
    async (_, writtenBeforeCrash) => {
      fake.addEvents(events(35)); // pages of 10: 10, 10, 10, 5, then an empty one
      const config = configFor();
      const client = createSystemLogClient(config);
      const real = new EventStore(db.client, table);
      let calls = 0;
      const crashing = {
        async storeEvents(...args: Parameters<EventStore['storeEvents']>) {
          if (++calls < 3) return real.storeEvents(...args);
          await real.storeEvents(args[0].slice(0, writtenBeforeCrash), args[1], args[2]);
          throw new Error('the process died');
        },
      };
      const options: PassOptions = { lookbackHours: 24, retentionDays: 90, pageSize: 10 };
      const deps = { client, dynamodb: db.client, tableName: table };
      const crashed = await reconcilePass({ ...deps, store: crashing }, options);
      expect(crashed).toMatchObject({
        status: 'failed',
        pages: 3,
        recovered: 20,
        reason: 'Error: the process died',
      });
      const thirdPage = logRequests()[2]!;

      const resumed = await reconcilePass({ ...deps, store: real }, options);
      expect(resumed).toMatchObject({
        status: 'caught-up',
        from: 'cursor',
        pages: 3, // page 3 again, page 4 (5 events), the empty page
        read: 15,
        recovered: 15 - writtenBeforeCrash,
        alreadyStored: writtenBeforeCrash,
      });
      // It began exactly at the page whose cursor was not saved.
      expect(logRequests()[3]!.query.toString()).toBe(thirdPage.query.toString());

      const stored = await storedEvents();
      expect(stored).toHaveLength(35);
      expect(new Set(stored.map((i) => i.uuid!.S)).size).toBe(35);
    },
  );
});

it('waits out a 429 until the reset and goes on', async () => {
  await fake.stop();
  await org({ rateLimit: { limit: 100, windowMs: 2000 } });
  fake.addEvents(events(25));
  const client = createSystemLogClient(configFor());
  const store = new EventStore(db.client, table);
  let calls = 0;
  const result = await reconcilePass(
    {
      client,
      dynamodb: db.client,
      tableName: table,
      store: {
        storeEvents: (...args) => {
          if (++calls === 1) fake.failNext(429); // the request for page 2 is refused
          return store.storeEvents(...args);
        },
      },
    },
    { lookbackHours: 24, retentionDays: 90, pageSize: 10 },
  );
  expect(result).toMatchObject({
    status: 'caught-up',
    read: 25,
    recovered: 25,
    rateLimited: 1,
    requests: 5,
  });
  expect(result.rateLimitWaitMs).toBeGreaterThan(0);
  expect(logRequests().map((r) => r.status)).toEqual([200, 429, 200, 200, 200]);
  expect(await storedEvents()).toHaveLength(25);
});

it('finds late events: persisted after the cursor passed their published time', async () => {
  fake.addEvents(events(20));
  expect(await pass()).toMatchObject({ recovered: 20 });
  const late = oktaEvents({
    types: ['user.lifecycle.create'],
    count: 5,
    until: new Date(Date.now() - 3_600_000),
  });
  fake.addEvents(late);
  expect(await pass()).toMatchObject({
    status: 'caught-up',
    from: 'cursor',
    read: 5,
    recovered: 5,
  });
});

it("reads the hook's types from Okta, and reports event_hook.delivery failures without storing them", async () => {
  const creates = events(6, ['user.lifecycle.create']);
  fake.addEvents([...events(10), ...creates]);
  fake.addEvents([
    hookDeliveryFailureEvent('delivery-a', 'read timed out'),
    hookDeliveryFailureEvent('delivery-b', 'status 503'),
  ]);

  const result = await pass({ OKTA_EVENT_HOOK_ID: HOOK_ID });
  expect(result).toMatchObject({
    status: 'caught-up',
    eventTypes: ['user.lifecycle.create'],
    read: 8,
    recovered: 6,
    notStored: 2,
    hookDeliveryFailures: 2,
    requests: 3, // the hook, a page, the empty page
  });
  expect(fake.requests[0]!.path).toBe(`/api/v1/eventHooks/${HOOK_ID}`);
  expect(logRequests()[0]!.query.get('filter')).toBe(
    'eventType eq "event_hook.delivery" or eventType eq "user.lifecycle.create"',
  );
  expect(new Set((await storedEvents()).map((i) => i.uuid!.S))).toEqual(
    new Set(creates.map((e) => e.uuid)),
  );

  // Other types from now on: a new query, from shortly before where the old one was complete.
  const next = await pass({ OKTA_EVENT_TYPES: 'user.session.start' });
  expect(next).toMatchObject({ from: 'new-query', recovered: 10 });
});

it('stores event_hook.delivery events too when every type is reconciled', async () => {
  fake.addEvents([hookDeliveryFailureEvent('delivery-a', 'read timed out')]);
  expect(await pass()).toMatchObject({
    read: 1,
    recovered: 1,
    notStored: 0,
    hookDeliveryFailures: 1,
  });
  expect(logRequests()[0]!.query.get('filter')).toBeNull();
});

it('stops before the deadline with the cursor saved, and the next pass goes on from there', async () => {
  fake.addEvents(events(25));
  const config = configFor();
  const store = new EventStore(db.client, table);
  let clock = Date.now();
  const deadline = clock + 100_000;
  const result = await reconcilePass(
    {
      client: createSystemLogClient(config),
      dynamodb: db.client,
      tableName: table,
      now: () => clock,
      store: {
        storeEvents: async (...args) => {
          const stored = await store.storeEvents(...args);
          clock += 60_000; // a slow page: the next one would not fit before the deadline
          return stored;
        },
      },
    },
    { lookbackHours: 24, retentionDays: 90, deadline, pageSize: 10 },
  );
  expect(result).toMatchObject({ status: 'deadline', pages: 1, recovered: 10 });
  expect(await pass({}, { pageSize: 10 })).toMatchObject({
    status: 'caught-up',
    from: 'cursor',
    read: 15,
    recovered: 15,
  });
});

it('--since and --until read a bounded window and leave the cursor alone', async () => {
  const list = oktaEvents({
    types: ['user.session.start'],
    count: 50,
    until: new Date(Date.now() - 60_000),
  });
  fake.addEvents(list);
  const result = await pass(
    {},
    { since: new Date(list[10]!.published), until: new Date(list[20]!.published) },
  );
  expect(result).toMatchObject({ status: 'done', from: 'since', read: 10, recovered: 10 });
  const cursor = (await allItems(db.client, table)).find(
    (i) => i.pk?.S === cursorKey(fake.url).pk.S,
  );
  expect(cursor).toBeUndefined();
});

it('a pass that finds the cursor moved by another pass stops instead of moving it back', async () => {
  fake.addEvents(events(10));
  await pass();
  fake.addEvents(events(3)); // new events, so that the pass below writes
  // Another pass saved meanwhile: the version this one would expect is gone.
  await db.client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        ...cursorKey(fake.url),
        nextUrl: { S: `${fake.url}/api/v1/logs?after=0_0` },
        query: { S: '' },
        version: { N: '99' },
      },
    }),
  );
  const client = createSystemLogClient(configFor());
  const store = new EventStore(db.client, table);
  const result = await reconcilePass(
    {
      client,
      dynamodb: db.client,
      tableName: table,
      store: {
        storeEvents: async (...args) => {
          await db.client.send(
            new PutItemCommand({
              TableName: table,
              Item: {
                ...cursorKey(fake.url),
                nextUrl: { S: 'x' },
                query: { S: '' },
                version: { N: '100' },
              },
            }),
          );
          return store.storeEvents(...args);
        },
      },
    },
    { lookbackHours: 24, retentionDays: 90 },
  );
  expect(result).toMatchObject({
    status: 'failed',
    reason: 'another reconcile pass moved the cursor while this one ran: this one stops',
  });
});

describe('the scheduled handler', () => {
  const PATH = '/okta-event-hooks/production';
  let lines: string[];
  beforeEach(() => {
    ssm.parameters.clear();
    lines = [];
    const capture = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    jest.spyOn(console, 'log').mockImplementation(capture);
    jest.spyOn(console, 'error').mockImplementation(capture);
    jest.spyOn(console, 'warn').mockImplementation(capture);
  });

  /** A production-like handler: secrets in the fake SSM, everything else from the environment. */
  function deployed(env: NodeJS.ProcessEnv, seen: string[]) {
    const config = loadConfig({
      STAGE: 'production',
      SECRETS_PATH: PATH,
      SSM_ENDPOINT: ssm.endpoint,
      EVENTS_TABLE: table,
      DYNAMODB_ENDPOINT: db.local.endpoint,
      OKTA_ORG_URL: fake.url,
      // In the environment and ignored: a deployed stage reads secrets from SSM only.
      OKTA_API_TOKEN: 'env-token-never-used',
      ...env,
    });
    // Everything that crosses the wire, to prove none of it reaches a log line.
    const recordingFetch: typeof fetch = async (input, init) => {
      if (init?.body) seen.push(String(init.body));
      const response = await fetch(input, init);
      const text = await response.text();
      seen.push(text);
      return new Response(text, { status: response.status, headers: response.headers });
    };
    const handler = createReconcileHandler({
      config,
      secrets: new SecretResolver(),
      dynamodb: db.client,
      fetch: recordingFetch,
    });
    // Its AWS calls are checked against the reconcile role's manifest at the end of the run.
    return (...args: Parameters<typeof handler>) =>
      asFunction(
        'reconcile',
        { STAGE: 'production', EVENTS_TABLE: table, SECRETS_PATH: PATH },
        () => handler(...args),
      );
  }
  const context = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

  it('does nothing on a stage without OKTA_ORG_URL, and says so', async () => {
    const handler = createReconcileHandler({ config: loadConfig({ STAGE: 'production' }) });
    expect(await handler({}, context(240_000))).toEqual({ status: 'not-configured' });
    expect(lines).toEqual([
      JSON.stringify({
        msg: 'reconcile',
        level: 'info',
        org: '-',
        status: 'not-configured',
        reason: 'OKTA_ORG_URL is not set',
      }),
    ]);
    expect(fake.requests).toEqual([]);
  });

  it('reads the private key from SSM, logs one line and one metrics line, and never a secret', async () => {
    ssm.parameters.set(`${PATH}/okta-private-key`, PRIVATE_JWK);
    fake.addEvents(events(40));
    fake.addEvents([hookDeliveryFailureEvent('delivery-a', 'read timed out')]);
    const seen: string[] = [];
    const handler = deployed({ OKTA_CLIENT_ID: CLIENT_ID }, seen);
    const outcome = await handler({}, context(240_000));
    expect(outcome).toMatchObject({
      status: 'caught-up',
      recovered: 41,
      hookDeliveryFailures: 1,
      tokenRequests: 1,
    });
    expect(lines).toHaveLength(2);
    const log = JSON.parse(lines.find((l) => l.includes('"msg":"reconcile"'))!);
    expect(log).toMatchObject({
      level: 'warn',
      status: 'caught-up',
      read: 41,
      recovered: 41,
      hookDeliveryFailures: 1,
    });
    const metrics = JSON.parse(lines.find((l) => l.includes('CloudWatchMetrics'))!);
    expect(metrics).toMatchObject({
      Stage: 'production',
      SystemLogEventsRead: 41,
      EventsRecovered: 41,
      HookDeliveryFailures: 1,
      SystemLogRequests: 3,
      ReconcileLagSeconds: 0,
    });

    // A second invocation of the warm container reuses the access token.
    await handler({}, context(240_000));
    expect(fake.requests.filter((r) => r.path === '/oauth2/v1/token')).toHaveLength(1);

    const assertion = /client_assertion=([^&]+)/.exec(
      seen.find((s) => s.includes('client_assertion='))!,
    )![1]!;
    const accessToken = JSON.parse(seen.find((s) => s.includes('access_token'))!)
      .access_token as string;
    const privateD = JSON.parse(PRIVATE_JWK).d as string;
    for (const secret of [
      privateD,
      accessToken,
      assertion,
      decodeURIComponent(assertion).split('.')[2]!,
    ]) {
      expect(lines.join('\n')).not.toContain(secret);
    }
  });

  it('fails loudly with a wrong token: a log line, then an error, neither holding the token', async () => {
    ssm.parameters.set(`${PATH}/okta-api-token`, 'wrong-ssm-token-3f7c');
    const handler = deployed({}, []);
    const error = (await handler({}, context(240_000)).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      'reconcile failed: Okta answered 401 E0000011 to GET /api/v1/logs: Invalid token provided — check the API token (OKTA_API_TOKEN)',
    );
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', status: 'failed', requests: 1 });
    for (const text of [...lines, error.message, error.stack ?? '']) {
      expect(text).not.toContain('wrong-ssm-token-3f7c');
      expect(text).not.toContain('env-token-never-used');
    }
  });

  it('fails loudly when SSM holds no credentials, naming where it looked', async () => {
    const handler = deployed({}, []);
    await expect(handler({}, context(240_000))).rejects.toThrow(
      'reconcile failed: no Okta credentials in SSM under /okta-event-hooks/production: set OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (a service app with okta.logs.read) or OKTA_API_TOKEN',
    );
  });

  it('stops cleanly when the invocation has too little time left', async () => {
    ssm.parameters.set(`${PATH}/okta-api-token`, TOKEN);
    fake.addEvents(events(5));
    const handler = deployed({}, []);
    expect(await handler({}, context(30_000))).toMatchObject({ status: 'deadline', pages: 0 });
    expect(logRequests()).toEqual([]);
  });
});
