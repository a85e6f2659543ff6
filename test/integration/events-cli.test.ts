/**
 * `npm run events` in-process against DynamoDB Local: what it prints for events Okta could send
 * but no one expects, e.g. an actor id that is not a string, or fields holding terminal
 * control sequences that would forge rows.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { runEventsCli } from '../../lib/cli/events-cli';
import { loadConfig } from '../../lib/config';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { delivery, logEvent } from '../helpers/okta';
import { startTestStreams } from '../helpers/streams';

let db: TestDynamoDb;
let env: NodeJS.ProcessEnv;

/** Received as Okta posts them, and stored from the table's stream. */
async function store(events: Array<Record<string, unknown>>) {
  const table = env.EVENTS_TABLE!;
  const config = loadConfig({
    IS_OFFLINE: 'true', // the local stage is open only under serverless offline
    EVENTS_TABLE: table,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    REQUEST_BUDGET_MS: '60000',
  });
  const streams = await startTestStreams(db, table, { config });
  try {
    const receive = createDeliveryHandler({
      config,
      deliveries: new DeliveryStore(db.client, table),
    });
    const response = await receive(
      v2Event({
        body: JSON.stringify(delivery(events)),
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(response.statusCode).toBe(204);
    await streams.idle();
  } finally {
    await streams.stop();
  }
}

async function events(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runEventsCli(args, env, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out, err };
}

/** C0 and C1 controls and DEL: what a terminal acts on instead of showing. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  db = await startTestDynamoDb();
  env = { DYNAMODB_ENDPOINT: db.local.endpoint, EVENTS_TABLE: await db.newTable() };
});
afterAll(async () => {
  jest.restoreAllMocks();
  await db?.stop();
});

it('lists events whose actor id or login is not a string', async () => {
  await store([
    logEvent({
      uuid: 'actor-number',
      published: '2026-11-01T10:00:00.000Z',
      actor: { id: 12345, type: 'User' },
    }),
    logEvent({
      uuid: 'actor-object',
      published: '2026-11-01T10:01:00.000Z',
      actor: { id: '00u1', alternateId: { login: 'jane' }, type: 'User' },
    }),
    logEvent({
      uuid: 'actor-array',
      published: '2026-11-01T10:02:00.000Z',
      actor: { id: ['a', 'b'], alternateId: null },
      target: 'not a list',
    }),
  ]);
  const { code, out } = await events(['list', '--until', '2026-11-01T11:00:00Z']);
  expect(code).toBe(0);
  expect(out).toHaveLength(3);
  expect(out[0]).toMatch(/^actor-array\s.*\s\["a","b"\]\s+-$/);
  expect(out[1]).toMatch(/^actor-object\s.*\s\{"login":"jane"\}\s/);
  expect(out[2]).toMatch(/^actor-number\s.*\s12345\s/);
});

it('escapes control characters in every printed field, so a field cannot forge a row', async () => {
  const forged = '\n00000000-forged  2026-11-01T00:00:00.000Z  user.session.start';
  await store([
    logEvent({
      uuid: 'controls',
      published: '2026-12-01T10:00:00.000Z',
      eventType: 'user.session.start\u001b[2K',
      actor: {
        id: '00u2',
        alternateId: `eve@example.com\u001b[1A\u001b[2K${forged}`,
        type: 'User',
      },
      target: [{ id: '0oa1', type: 'AppInstance', displayName: `app\r\u009b2K\u0007${forged}` }],
    }),
  ]);
  const { code, out } = await events(['list', '--since', '2026-12-01']);
  expect(code).toBe(0);
  expect(out).toHaveLength(1);
  expect(out[0]).not.toMatch(CONTROL);
  expect(out[0]).toContain('user.session.start\\u001b[2K');
  expect(out[0]).toContain('eve@example.com\\u001b[1A');
  expect(out[0]).toContain('app\\u000d\\u009b2K\\u0007\\u000a00000000-forged');

  const deliveries = await events(['deliveries', '--since', '2026-01-01']);
  expect(deliveries.code).toBe(0);
  expect(deliveries.out.length).toBeGreaterThan(0);
  for (const line of deliveries.out) expect(line).not.toMatch(CONTROL);
  expect(deliveries.out.join('\n')).toContain('user.session.start\\u001b[2K');

  // get pretty-prints valid JSON: controls inside strings stay escaped (C1 and DEL too).
  const got = await events(['get', 'controls']);
  expect(got.out.join('\n').replace(/\n/g, '')).not.toMatch(CONTROL);
  expect(JSON.parse(got.out.join('\n')).target[0].displayName).toBe(`app\r\u009b2K\u0007${forged}`);
  // --json is the exact text as stored.
  const exact = await events(['get', 'controls', '--json']);
  expect(exact.out[0]).toContain('\u009b2K');
});

describe('delivery <id> and deliveries --status', () => {
  const SECRET = 'Basic c2VjcmV0LWZvci1jbGktdGVzdA==';
  const body = JSON.stringify(
    delivery(
      [
        logEvent({ uuid: 'dl-1', eventType: 'user.session.start' }),
        logEvent({ uuid: 'dl-2', eventType: 'user.lifecycle.create' }),
      ],
      { eventId: 'delivery-shown' },
    ),
    null,
    2, // as sent: indented, kept exactly
  );
  let table: string;

  beforeAll(async () => {
    table = await db.newTable();
    const config = loadConfig({
      EVENTS_TABLE: table,
      DYNAMODB_ENDPOINT: db.local.endpoint,
      REQUEST_BUDGET_MS: '60000',
      OKTA_AUTH_SECRET: SECRET,
    });
    const receive = createDeliveryHandler({
      config,
      deliveries: new DeliveryStore(db.client, table),
    });
    const post = (text: string) =>
      receive(
        v2Event({
          body: text,
          headers: {
            'content-type': 'application/json',
            authorization: SECRET,
            'x-okta-request-id': 'req-cli',
          },
        }),
      );
    // One stored through the stream, one received while no stream runs (still `received`).
    const streams = await startTestStreams(db, table, { config });
    try {
      expect((await post(body)).statusCode).toBe(204);
      await streams.idle();
    } finally {
      await streams.stop();
    }
    const waiting = JSON.stringify(delivery([logEvent({ uuid: 'dl-3' })], { eventId: 'waiting' }));
    expect((await post(waiting)).statusCode).toBe(204);
    env = { ...env, EVENTS_TABLE: table };
  });

  it('shows the request as received, its outcome and uuids, never the secret', async () => {
    const { code, out } = await events(['delivery', 'delivery-shown']);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^delivery +delivery-shown$/m);
    expect(text).toMatch(/^status +stored$/m);
    expect(text).toMatch(/^stored +2 new, 0 already stored$/m);
    expect(text).toMatch(/^stored at +\S+ \(\d+ ms after receipt, storing took \d+ ms\)$/m);
    expect(text).toMatch(/^uuids\n {2}dl-1\n {2}dl-2$/m);
    expect(text).toMatch(/^x-okta-request-id: req-cli$/m);
    expect(text.endsWith(body)).toBe(true); // the body exactly as sent
    expect(text).not.toContain(SECRET);
    expect(text.toLowerCase()).not.toMatch(/^authorization:/m);

    const json = await events(['delivery', 'delivery-shown', '--json']);
    expect(json.out).toHaveLength(1);
    const record = JSON.parse(json.out[0]!);
    expect(record).toMatchObject({ deliveryId: 'delivery-shown', status: 'stored', body });
    expect(json.out[0]).not.toContain(SECRET);
  });

  it('says when there is no such delivery, with exit code 1', async () => {
    const { code, out, err } = await events(['delivery', 'nope\u001b[2J']);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toContain('No delivery with id "nope\\u001b[2J"');
  });

  it('filters deliveries by status, and refuses an unknown one or a misplaced --status', async () => {
    const ids = async (status: string) =>
      (await events(['deliveries', '--status', status, '--json'])).out.map(
        (line) => JSON.parse(line).deliveryId,
      );
    expect(await ids('stored')).toEqual(['delivery-shown']);
    expect(await ids('received')).toEqual(['waiting']);
    expect(await ids('rejected')).toEqual([]);
    await expect(events(['deliveries', '--status', 'done'])).rejects.toThrow(
      'must be one of received, stored, rejected',
    );
    await expect(events(['list', '--status', 'stored'])).rejects.toThrow(
      '--status applies to deliveries only',
    );
  });
});

describe('redrive', () => {
  /** A delivery recorded as the receiver records it, its stream never run: still `received`. */
  async function received(deliveries: DeliveryStore, id: string, body: Buffer, at: string) {
    await deliveries.record({
      deliveryId: id,
      eventId: id,
      receivedAt: at,
      body,
      headers: {},
      eventCount: 1,
      eventTypes: ['user.session.start'],
      source: undefined,
      eventTime: undefined,
      caller: 'okta',
      sourceIp: undefined,
      requestId: 'r',
      expiresAt: undefined,
    });
  }

  it('names each delivery it cannot store and why, stores the others, and exits 1 with a count', async () => {
    const table = await db.newTable();
    const deliveries = new DeliveryStore(db.client, table);
    const good = logEvent();
    await received(deliveries, 'broken-old', Buffer.from('{}'), '2026-12-01T10:00:00.000Z');
    await received(
      deliveries,
      'good-newer',
      Buffer.from(JSON.stringify(delivery([good]))),
      '2026-12-01T11:00:00.000Z',
    );
    // The oldest one's stored body is damaged: it no longer matches what was received.
    const head = (await deliveries.get('broken-old'))!;
    await db.client.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...head, body: { B: Buffer.from('not gzip at all') } },
      }),
    );
    const saved = env;
    env = { ...env, EVENTS_TABLE: table };
    try {
      const first = await events(['redrive']);
      expect(first.code).toBe(1);
      expect([...first.out].sort()).toEqual([
        expect.stringMatching(
          /^2026-12-01T10:00:00.000Z {2}broken-old {2}failed {2}Error: delivery broken-old: its stored body does not unzip \(incorrect header check\)$/,
        ),
        '2026-12-01T11:00:00.000Z  good-newer  stored  stored=1 duplicates=0',
      ]);
      expect(first.err.at(-1)).toMatch(
        /^Redrove 2 deliveries in table .*: 1 events stored, 0 duplicates; 1 delivery could not be stored \(listed as failed above\)\.$/,
      );
      const again = await events(['redrive']);
      expect(again.code).toBe(1);
      expect(again.out).toEqual([expect.stringContaining('broken-old  failed')]);
    } finally {
      env = saved;
    }
  });
});
