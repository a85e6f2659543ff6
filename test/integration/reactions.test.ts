/**
 * Reactions against DynamoDB Local: the react handler as the stream invokes it (directly, and
 * through the real stream runner), outcome items claimed under a lease, redrive requests, and
 * the outcome listings.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type Config, loadConfig } from '../../lib/config';
import { RequestError } from '../../lib/errors';
import { streamConsumers } from '../../lib/local/stream-runner';
import { oktaEvent } from '../../lib/okta-simulator/events';
import type { PutEventsClient } from '../../lib/reactions/eventbridge';
import { createEventBridgeReaction } from '../../lib/reactions/eventbridge';
import { OutcomeQueries } from '../../lib/reactions/outcome-queries';
import { OutcomeStore } from '../../lib/reactions/outcomes';
import type { Reaction } from '../../lib/reactions/reaction';
import { createReactHandler } from '../../lib/reactions/react-stream';
import { EventStore } from '../../lib/store/event-store';
import { type Item, eventItem } from '../../lib/store/event-items';
import { imageFromItem } from '../../lib/stream/stream-batch';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { type StreamHandler, startTestStreams } from '../helpers/streams';

let db: TestDynamoDb;

beforeAll(async () => {
  db = await startTestDynamoDb();
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

function configFor(table: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    STAGE: 'local',
    EVENTS_TABLE: table,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    LOG_FORMAT: 'json',
    REACTION_RETRY_BASE_MS: '1',
    ...env,
  });
}

/** Events as the store function writes them; their items, as the stream shows them. */
async function storeEvents(table: string, count: number, type = 'user.session.start' as const) {
  const events = Array.from({ length: count }, () => oktaEvent(type));
  const parsed = events.map((event) => ({ event, rawJson: JSON.stringify(event) }));
  const origin = {
    origin: 'hook' as const,
    receivedAt: new Date().toISOString(),
    expiresAt: undefined,
  };
  await new EventStore(db.client, table).storeEvents(parsed, origin);
  return parsed.map((p) => ({ uuid: p.event.uuid, json: p.rawJson, item: eventItem(p, origin)! }));
}

let sequence = 1000;
function streamEvent(items: Item[]): DynamoDBStreamEvent {
  return {
    Records: items.map((item): DynamoDBRecord => ({
      eventName: 'INSERT',
      dynamodb: {
        Keys: imageFromItem({ pk: item.pk!, sk: item.sk! }),
        NewImage: imageFromItem(item),
        SequenceNumber: String(++sequence),
      },
    })),
  };
}

const lambdaContext = { getRemainingTimeInMillis: () => 60_000 };

/** A reaction that records every call and fails where `fails` says so. */
function recording(name: string, fails: (uuid: string, attempt: number) => boolean = () => false) {
  const calls: Array<{ uuid: string; attempt: number; at: number }> = [];
  const reaction: Reaction = {
    name,
    eventTypes: ['*'],
    async handle(event, context) {
      calls.push({ uuid: event.uuid, attempt: context.attempt, at: calls.length });
      if (fails(event.uuid, context.attempt)) throw new Error(`${name} refused ${event.uuid}`);
    },
  };
  const count = (uuid: string) => calls.filter((c) => c.uuid === uuid).length;
  return { reaction, calls, count };
}

function reactStreams(table: string, config: Config, reactions: Reaction[]) {
  return startTestStreams(db, table, {
    handlers: { react: createReactHandler({ config, reactions, quiet: true }) as StreamHandler },
    consumers: streamConsumers().filter((c) => c.name === 'react'),
  });
}

describe('a failing reaction', () => {
  it('does not hold back the other events of its batch: all are worked on, only it is reported', async () => {
    const table = await db.newTable();
    const stored = await storeEvents(table, 6);
    const bad = stored[1]!.uuid;
    const { reaction, count } = recording('picky', (uuid) => uuid === bad);
    const handler = createReactHandler({
      config: configFor(table),
      reactions: [reaction],
      quiet: true,
    });
    const event = streamEvent(stored.map((s) => s.item));
    const response = await handler(event, lambdaContext);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber },
    ]);
    for (const { uuid } of stored) expect(count(uuid)).toBe(uuid === bad ? 3 : 1);
    const outcomes = new OutcomeStore(db.client, table);
    expect(await outcomes.get(bad, 'picky')).toMatchObject({
      status: 'failed',
      attempts: 3,
      lastError: `Error: picky refused ${bad}`,
    });
    expect(await outcomes.get(stored[5]!.uuid, 'picky')).toMatchObject({
      status: 'succeeded',
      attempts: 1,
    });
  });

  it('through the stream: the others run once, however batched; it goes to the on-failure path, still failed', async () => {
    const table = await db.newTable();
    let bad = '';
    const { reaction, calls, count } = recording('picky', (uuid) => uuid === bad);
    const streams = await reactStreams(table, configFor(table, { REACTION_TRIES: '2' }), [
      reaction,
    ]);
    try {
      const stored = await storeEvents(table, 8);
      bad = stored[2]!.uuid;
      await streams.idle();
      const others = stored.filter((s) => s.uuid !== bad);
      for (const { uuid } of others) expect(count(uuid)).toBe(1);
      // Which batch each record lands in depends on when the stream is read (a busy machine
      // splits them): whatever the batches, the others ran once and never again on a retry.
      expect(calls.filter((c) => c.uuid !== bad)).toHaveLength(others.length);
      // serverless.yml: 5 retries after the first invocation, 2 tries each.
      expect(count(bad)).toBe(12);
      expect(streams.failures).toHaveLength(1);
      expect(streams.failures[0]).toMatchObject({ consumer: 'react', attempts: 6 });
      const failed = await new OutcomeQueries(db.client, table).list({ status: 'failed' });
      expect(failed.items.map((o) => [o.uuid, o.attempts])).toEqual([[bad, 12]]);
    } finally {
      await streams.stop();
    }
  });
});

describe('no reaction runs twice to success', () => {
  it('when the stream hands the same batch again', async () => {
    const table = await db.newTable();
    const stored = await storeEvents(table, 4);
    const { reaction, count } = recording('once');
    const handler = createReactHandler({
      config: configFor(table),
      reactions: [reaction],
      quiet: true,
    });
    const event = streamEvent(stored.map((s) => s.item));
    expect((await handler(event, lambdaContext)).batchItemFailures).toEqual([]);
    expect((await handler(event, lambdaContext)).batchItemFailures).toEqual([]);
    for (const { uuid } of stored) expect(count(uuid)).toBe(1);
  });

  it('when two invocations overlap: the second finds it claimed, reports it, and the retry skips it', async () => {
    const table = await db.newTable();
    const [one] = await storeEvents(table, 1);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const slow: Reaction = {
      name: 'slow',
      eventTypes: ['*'],
      async handle() {
        calls++;
        await gate;
      },
    };
    const config = configFor(table);
    const handler = createReactHandler({ config, reactions: [slow], quiet: true });
    const event = streamEvent([one!.item]);
    const first = handler(event, lambdaContext);
    await new Promise((r) => setTimeout(r, 300)); // the first holds the claim
    const second = await handler(event, lambdaContext);
    expect(second.batchItemFailures).toHaveLength(1);
    release();
    expect((await first).batchItemFailures).toEqual([]);
    expect((await handler(event, lambdaContext)).batchItemFailures).toEqual([]);
    expect(calls).toBe(1);
  });

  it('but a claim left by a run that died is taken over once its lease has run out', async () => {
    const table = await db.newTable();
    const [one] = await storeEvents(table, 1);
    const outcomes = new OutcomeStore(db.client, table);
    const dead = await outcomes.claim({
      reaction: 'once',
      uuid: one!.uuid,
      eventType: 'user.session.start',
      expiresAt: undefined,
      leaseMs: 50,
    });
    expect(dead.claimed).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    const { reaction, count } = recording('once');
    const handler = createReactHandler({
      config: configFor(table),
      reactions: [reaction],
      quiet: true,
    });
    expect((await handler(streamEvent([one!.item]), lambdaContext)).batchItemFailures).toEqual([]);
    expect(count(one!.uuid)).toBe(1);
    expect(await outcomes.get(one!.uuid, 'once')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });
    // The dead run's late result cannot overwrite it.
    const token = (dead as { token: string }).token;
    expect(
      await outcomes.finish({ reaction: 'once', uuid: one!.uuid }, token, {
        status: 'failed',
        attempts: 9,
        error: new Error('late'),
      }),
    ).toBe(false);
    expect(await outcomes.get(one!.uuid, 'once')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });
  });
});

it('redrive requests run failed reactions again through the stream; twice changes nothing', async () => {
  const table = await db.newTable();
  let down = true;
  const { reaction, count } = recording('flaky', () => down);
  const streams = await reactStreams(table, configFor(table, { REACTION_TRIES: '1' }), [reaction]);
  const outcomes = new OutcomeStore(db.client, table);
  const queries = new OutcomeQueries(db.client, table);
  try {
    const stored = await storeEvents(table, 3);
    await streams.idle();
    expect((await queries.list({ status: 'failed' })).items).toHaveLength(3);
    down = false;
    for (const { uuid } of stored) await outcomes.requestRedrive(uuid, 'flaky');
    await streams.idle();
    expect((await queries.list({ status: 'failed' })).items).toEqual([]);
    expect((await queries.list({ status: 'succeeded' })).items.map((o) => o.attempts)).toEqual([
      7, 7, 7,
    ]);
    const before = stored.map(({ uuid }) => count(uuid));
    for (const { uuid } of stored) await outcomes.requestRedrive(uuid, 'flaky');
    await streams.idle();
    expect(stored.map(({ uuid }) => count(uuid))).toEqual(before);
    // A redrive of a reaction this stage does not run says so in the outcome.
    await outcomes.requestRedrive(stored[0]!.uuid, 'gone');
    await streams.idle();
    expect(await outcomes.get(stored[0]!.uuid, 'gone')).toMatchObject({
      status: 'failed',
      lastError: 'ConfigError: reaction gone is not enabled on this stage',
    });
  } finally {
    await streams.stop();
  }
});

it('eventbridge gets the events of a stream batch together, exactly as stored', async () => {
  const table = await db.newTable();
  const requests: string[][] = [];
  const client: PutEventsClient = {
    async send(command) {
      requests.push((command.input.Entries ?? []).map((e) => e.Detail!));
      return {
        FailedEntryCount: 0,
        Entries: (command.input.Entries ?? []).map(() => ({ EventId: 'e' })),
      };
    },
  };
  const config = configFor(table, { STAGE: 'staging', EVENT_BUS_NAME: 'okta-event-hooks-staging' });
  // Stored before the stream is read (from TRIM_HORIZON), so the 12 arrive in one batch whatever
  // the machine's load: written while it polls, a busy machine splits them (5 + 7).
  const stored = await storeEvents(table, 12);
  const streams = await reactStreams(table, config, [createEventBridgeReaction({ client })]);
  try {
    await streams.idle();
    expect(requests.map((r) => r.length)).toEqual([10, 2]);
    expect(requests.flat().sort()).toEqual(stored.map((s) => s.json).sort());
  } finally {
    await streams.stop();
  }
});

describe('outcome listings', () => {
  let table: string;
  let queries: OutcomeQueries;
  const uuids = Array.from({ length: 8 }, (_, i) => `0000000${i}-aaaa-bbbb-cccc-dddddddddddd`);

  beforeAll(async () => {
    table = await db.newTable();
    queries = new OutcomeQueries(db.client, table);
    // Eight events, two reactions, a clock one minute apart: statuses mixed.
    let clock = Date.parse('2026-11-01T00:00:00Z');
    const store = new OutcomeStore(db.client, table, () => clock);
    for (const [i, uuid] of uuids.entries()) {
      const reaction = i % 2 === 0 ? 'forward' : 'eventbridge';
      const claim = await store.claim({
        reaction,
        uuid,
        eventType: 'user.session.start',
        expiresAt: undefined,
        leaseMs: 60_000,
      });
      clock += 60_000;
      if (i % 3 === 2) continue; // left running
      if (!claim.claimed) throw new Error('not claimed');
      await store.finish({ reaction, uuid }, claim.token, {
        status: i % 3 === 0 ? 'succeeded' : 'failed',
        attempts: 1,
        error: new Error('boom'),
      });
      clock += 60_000;
    }
    // Last updated at minute: 0 → 1, 1 → 3, 2 → 4 (running), 3 → 6, 4 → 8, 5 → 9 (running),
    // 6 → 11, 7 → 13. Succeeded: 0, 3, 6; failed: 1, 4, 7.
  });

  const key = (o: { reaction: string; uuid: string }) => `${o.reaction}:${o.uuid.slice(7, 8)}`;

  it('lists every status newest first, page after page, each outcome once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.list({ limit: 3, cursor });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map(key));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([
      'eventbridge:7',
      'forward:6',
      'eventbridge:5',
      'forward:4',
      'eventbridge:3',
      'forward:2',
      'eventbridge:1',
      'forward:0',
    ]);
  });

  it('lists one status, one reaction, a time range', async () => {
    expect((await queries.list({ status: 'failed' })).items.map(key)).toEqual([
      'eventbridge:7',
      'forward:4',
      'eventbridge:1',
    ]);
    expect((await queries.list({ status: 'running' })).items.map((o) => o.status)).toEqual([
      'running',
      'running',
    ]);
    const forward: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.list({ name: 'forward', limit: 1, cursor });
      forward.push(...page.items.map(key));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(forward).toEqual(['forward:6', 'forward:4', 'forward:2', 'forward:0']);
    const range = await queries.list({
      since: '2026-11-01T00:03:00.000Z',
      until: '2026-11-01T00:09:00.000Z',
    });
    expect(range.items.map(key)).toEqual([
      'forward:4',
      'eventbridge:3',
      'forward:2',
      'eventbridge:1',
    ]);
  });

  it("answers one event's outcomes, and refuses a cursor of another listing", async () => {
    expect(await queries.forEvent(uuids[0]!)).toBeUndefined(); // no such event stored
    const [one] = await storeEvents(table, 1);
    const store = new OutcomeStore(db.client, table);
    const claim = await store.claim({
      reaction: 'forward',
      uuid: one!.uuid,
      eventType: 'user.session.start',
      expiresAt: undefined,
      leaseMs: 1000,
    });
    await store.finish(
      { reaction: 'forward', uuid: one!.uuid },
      (claim as { token: string }).token,
      { status: 'succeeded', attempts: 1 },
    );
    expect(await queries.forEvent(one!.uuid)).toEqual([
      expect.objectContaining({
        reaction: 'forward',
        status: 'succeeded',
        attempts: 1,
        uuid: one!.uuid,
      }),
    ]);
    const page = await queries.list({ status: 'failed', limit: 1 });
    await expect(
      queries.list({ status: 'succeeded', cursor: page.nextCursor! }),
    ).rejects.toBeInstanceOf(RequestError);
  });
});
