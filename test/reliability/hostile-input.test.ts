/**
 * Hostile input, property-based (fast-check), on the POST path: in-process against DynamoDB
 * Local for volume, and a sample through a real serverless offline, each with the table's stream
 * running the store function. Every answer is a 4xx with a JSON error, or a 2xx after which the
 * store function stores every event exactly (the stored text is exactly the event's text) and
 * marks the delivery stored; never a 5xx, a crash, a hang, a batch given up on, or a polluted
 * Object.prototype.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { loadConfig } from '../../lib/config';
import type { HttpResponse } from '../../lib/http/http';
import type { StreamRunner } from '../../lib/local/stream-runner';
import { MAX_NESTING_DEPTH } from '../../lib/okta/okta-contract';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { eventJson } from '../../lib/store/event-items';
import { EventStore } from '../../lib/store/event-store';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { v2Event } from '../helpers/api-gateway';
import { allItems } from '../helpers/dynamodb';
import { type TestStack, startTestStack } from '../helpers/offline';
import { type TestStreams, startTestStreams } from '../helpers/streams';
import { profile, recordFigure } from './figures';

const SECRET = 'Basic aG9zdGlsZTpyZWxpYWJpbGl0eS1zZWNyZXQ=';
const config = profile();
let stack: TestStack;
/** The in-process receiver's table: its events, and the stream running the store function. */
let inProcess: Target;
let offline: Target;
let tableStreams: TestStreams;
let handler: ReturnType<typeof createDeliveryHandler>;
const logLines: string[] = [];
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
let casesTried = 0;
const statuses = new Map<number, number>();

beforeAll(async () => {
  stack = await startTestStack({ OKTA_AUTH_SECRET: SECRET });
  const tableName = await stack.db.newTable();
  const config = loadConfig({
    OKTA_AUTH_SECRET: SECRET,
    EVENTS_TABLE: tableName,
    DYNAMODB_ENDPOINT: stack.db.local.endpoint,
    // Not about the budget: a cold DynamoDB Local on a busy machine must not turn a case into 503.
    REQUEST_BUDGET_MS: '60000',
  });
  handler = createDeliveryHandler({
    config,
    deliveries: new DeliveryStore(stack.db.client, tableName),
  });
  tableStreams = await startTestStreams(stack.db, tableName, { config });
  inProcess = { store: new EventStore(stack.db.client, tableName), streams: tableStreams };
  offline = { store: new EventStore(stack.db.client, stack.tableName), streams: stack.streams };
  jest.spyOn(console, 'log').mockImplementation((l: unknown) => void logLines.push(String(l)));
  jest.spyOn(console, 'error').mockImplementation((l: unknown) => void logLines.push(String(l)));
}, 180_000);

afterAll(async () => {
  jest.restoreAllMocks();
  recordFigure('hostile input', 'cases tried (in-process + offline)', casesTried);
  recordFigure(
    'hostile input',
    'answers by status',
    [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}:${n}`)
      .join(' '),
  );
  await tableStreams?.stop();
  expect(await stack?.stop()).toEqual([]);
  expect([...logLines, ...stack.lines].filter((l) => l.includes(SECRET))).toEqual([]);
});

afterEach(() => {
  // Nothing a body held reached Object.prototype.
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

/** table:uuid -> the event text stored first; a later store of the same uuid must not change it. */
const firstStored = new Map<string, string>();

interface Sent {
  body: Buffer;
  /** Each event's exact text, when the case built the body from texts. */
  eventTexts?: string[];
}

interface Target {
  store: EventStore;
  streams: Pick<StreamRunner, 'idle' | 'failures'>;
}

/**
 * Checks one answer against the contract: a 4xx with a JSON error, or a 2xx after which the
 * stream stores the events (read back through `target.store`) without giving up on a batch.
 */
async function expectContract(
  sent: Sent,
  status: number,
  body: string | undefined,
  target = inProcess,
) {
  casesTried++;
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  if (status >= 400 && status < 500) {
    const error = (JSON.parse(body ?? '') as { error?: unknown }).error;
    expect(typeof error).toBe('string');
    return;
  }
  expect(status).toBeGreaterThanOrEqual(200);
  expect(status).toBeLessThan(300);
  await target.streams.idle();
  expect(target.streams.failures).toEqual([]);
  const inStore = target.store;
  const events = (
    JSON.parse(sent.body.toString('utf8')) as { data: { events: Record<string, unknown>[] } }
  ).data.events;
  const seen = new Set<string>();
  for (const [i, event] of events.entries()) {
    const uuid = event.uuid as string;
    if (seen.has(uuid)) continue; // the first occurrence in a delivery is the one stored
    seen.add(uuid);
    const text = sent.eventTexts?.[i] ?? JSON.stringify(event);
    const key = `${inStore.tableName}:${uuid}`;
    if (!firstStored.has(key)) firstStored.set(key, text);
    const item = await inStore.getEvent(uuid);
    expect(item).toBeDefined();
    const stored = eventJson(item!);
    if (sent.eventTexts) expect(stored).toBe(firstStored.get(key));
    else
      expect(isDeepStrictEqual(JSON.parse(stored), JSON.parse(firstStored.get(key)!))).toBe(true);
  }
}

async function postInProcess(sent: Sent): Promise<HttpResponse> {
  const response = await handler(
    v2Event({
      body: sent.body,
      base64: true, // the exact bytes, invalid UTF-8 included
      headers: { 'content-type': 'application/json', authorization: SECRET },
    }),
  );
  await expectContract(sent, response.statusCode, response.body);
  return response;
}

// ---- Arbitraries: bodies built from text, so duplicate keys and exact numbers survive. ----

const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'uuid',
    'eventType',
    'published',
    'data',
    'events',
    '',
  ),
  fc.string({ maxLength: 12 }),
);
const bigNumber = fc
  .bigInt({ min: 2n ** 53n, max: 2n ** 200n })
  .chain((n) => fc.constantFrom(`${n}`, `-${n}`, `${n}.5e-3`, `${n}E+400`));
const deepNesting = fc.integer({ min: 1, max: 20_000 }).map((d) => '['.repeat(d) + ']'.repeat(d));
const longString = fc
  .integer({ min: 1_000, max: 200_000 })
  .map((n) => JSON.stringify('é'.repeat(n)));
const valueText = fc.oneof(
  { arbitrary: fc.json({ maxDepth: 4 }), weight: 6 },
  { arbitrary: bigNumber, weight: 2 },
  { arbitrary: deepNesting, weight: 1 },
  { arbitrary: longString, weight: 1 },
);
/** A field's value: the right type most of the time, anything at all otherwise. */
const keyValue = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    { arbitrary: valid.map((s) => JSON.stringify(s)), weight: 4 },
    { arbitrary: fc.json(), weight: 1 },
  );

const objectText = (entries: [string, string][]) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

const eventText = fc
  .record({
    uuid: keyValue(fc.oneof(fc.uuid(), fc.string({ maxLength: 300 }))),
    eventType: keyValue(fc.constantFrom('user.session.start', 'user.lifecycle.create', 'x')),
    published: keyValue(
      fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
    ),
    extra: fc.array(fc.tuple(hostileKey, valueText), { maxLength: 6 }),
    order: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ uuid, eventType, published, extra, order }) => {
    const known: [string, string][] = [
      ['uuid', uuid],
      ['eventType', eventType],
      ['published', published],
    ];
    // Extra keys before, between or after the known ones: duplicates then win or lose.
    return objectText([...extra.slice(0, order), ...known, ...extra.slice(order)]);
  });

const deliveryBody = fc
  .record({
    envelopeType: keyValue(fc.constant('com.okta.event_hook')),
    eventId: keyValue(fc.uuid()),
    events: fc.array(
      fc.oneof({ arbitrary: eventText, weight: 9 }, { arbitrary: fc.json(), weight: 1 }),
      {
        maxLength: 8,
      },
    ),
    extra: fc.array(fc.tuple(hostileKey, valueText), { maxLength: 3 }),
  })
  .map(({ envelopeType, eventId, events, extra }): Sent => {
    const text = objectText([
      ['eventType', envelopeType],
      ['eventId', eventId],
      ...extra.filter(([k]) => k !== 'data' && k !== 'eventType'),
      ['data', objectText([['events', `[${events.join(',')}]`]])],
    ]);
    return { body: Buffer.from(text, 'utf8'), eventTexts: events };
  });

const runs = { numRuns: config.propertyRuns, interruptAfterTimeLimit: 240_000 };

it('random bytes: a 4xx with a JSON error', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
      const response = await postInProcess({ body: Buffer.from(bytes) });
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
    }),
    runs,
  );
});

it('generated deliveries (wrong types, hostile keys, duplicate keys, huge numbers, deep nesting, long strings): 4xx or an exact store', async () => {
  await fc.assert(
    fc.asyncProperty(deliveryBody, async (sent) => {
      await postInProcess(sent);
    }),
    runs,
  );
});

it('invalid UTF-8 anywhere in a valid delivery: 400 invalid_encoding', async () => {
  const invalid = fc.constantFrom(
    [0xff],
    [0xc3],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xc0, 0xaf],
  );
  await fc.assert(
    fc.asyncProperty(deliveryBody, invalid, fc.nat(), async (sent, bad, at) => {
      const cut = at % (sent.body.length + 1);
      const body = Buffer.concat([
        sent.body.subarray(0, cut),
        Buffer.from(bad),
        sent.body.subarray(cut),
      ]);
      const response = await postInProcess({ body });
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body!).error).toBe('invalid_encoding');
    }),
    runs,
  );
});

function oneEvent(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    uuid: randomUUID(),
    eventType: 'user.session.start',
    published: new Date().toISOString(),
    ...fields,
  });
}

function envelope(eventTexts: string[]): Sent {
  const text = `{"eventType":"com.okta.event_hook","eventId":"${randomUUID()}","data":{"events":[${eventTexts.join(',')}]}}`;
  return { body: Buffer.from(text), eventTexts };
}

it('one event over the 400 KB item limit: stored gzipped when it compresses, else 413', async () => {
  const compressible = envelope([oneEvent({ note: 'a'.repeat(1_000_000) })]);
  expect((await postInProcess(compressible)).statusCode).toBe(204);
  const incompressible = envelope([oneEvent({ noise: randomBytes(450_000).toString('base64') })]);
  const refused = await postInProcess(incompressible);
  expect(refused.statusCode).toBe(413);
  expect(JSON.parse(refused.body!).error).toBe('event_too_large');
  const uuid = (JSON.parse(incompressible.eventTexts![0]!) as { uuid: string }).uuid;
  expect(await inProcess.store.getEvent(uuid)).toBeUndefined();
});

it('nesting past the limit is a 400; just under it, and a prototype-polluting event, are stored exactly, nothing polluted', async () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  // The envelope, data, events and the event itself are 4 levels.
  const deepest = envelope([
    `{"uuid":"${randomUUID()}","eventType":"x","published":"p","d":${nested(MAX_NESTING_DEPTH - 4)}}`,
  ]);
  expect((await postInProcess(deepest)).statusCode).toBe(204);
  const tooDeep = envelope([
    `{"uuid":"${randomUUID()}","eventType":"x","published":"p","d":${nested(100_000)}}`,
  ]);
  const refused = await postInProcess(tooDeep);
  expect(refused.statusCode).toBe(400);
  expect(JSON.parse(refused.body!).error).toBe('too_deeply_nested');
  const polluting = envelope([
    `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"uuid":"${randomUUID()}","eventType":"x","published":"p","uuid":"${randomUUID()}"}`,
  ]);
  expect((await postInProcess(polluting)).statusCode).toBe(204);
});

it('thousands of tiny events in one delivery: one write answers 204, then the stream stores each exactly', async () => {
  const sent = envelope(Array.from({ length: 2000 }, () => oneEvent()));
  const started = performance.now();
  const response = await handler(
    v2Event({
      body: sent.body,
      headers: { 'content-type': 'application/json', authorization: SECRET },
    }),
  );
  const answerMs = Math.round(performance.now() - started);
  expect(response.statusCode).toBe(204);
  await tableStreams.idle();
  const storedMs = Math.round(performance.now() - started);
  await expectContract(sent, response.statusCode, response.body);
  recordFigure(
    'hostile input',
    '2,000 tiny events in one delivery: answered / stored after (ms)',
    `${answerMs} / ${storedMs}`,
  );
});

it('a sample of generated deliveries through serverless offline: 4xx or an exact store', async () => {
  const samples = fc.sample(deliveryBody, config.offlineSample);
  // Invalid UTF-8 inside a valid delivery: serverless offline decodes the body as text, the
  // receiver sees the replacement (U+FFFD) against the Content-Length and refuses it.
  const valid = envelope([oneEvent({ note: 'BAD' })]);
  const at = valid.body.indexOf('BAD');
  const invalid = Buffer.concat([
    valid.body.subarray(0, at),
    Buffer.from([0xff, 0xc3, 0x28]),
    valid.body.subarray(at + 3),
  ]);
  samples.push({ body: Buffer.from(randomBytes(2048)) });
  // Generated samples may all be refused: one valid delivery makes sure offline stores one (the
  // next test checks every accepted delivery ended stored, in both tables).
  samples.push(envelope([oneEvent({ note: 'a valid delivery' })]));
  for (const sent of [...samples, { body: invalid }]) {
    const response = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: SECRET },
      body: sent.body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    await expectContract(sent, response.status, text, offline);
    if (sent.body === invalid) {
      expect(response.status).toBe(400);
      expect(JSON.parse(text).error).toBe('invalid_encoding');
    }
  }
});

it('every delivery answered 2xx ended stored, in both tables', async () => {
  for (const target of [inProcess, offline]) {
    await target.streams.idle();
    expect(target.streams.failures).toEqual([]);
    const heads = (await allItems(stack.db.client, target.store.tableName)).filter(
      (i) => i.itemType?.S === 'delivery',
    );
    expect(heads.length).toBeGreaterThan(0);
    expect(heads.filter((h) => h.status?.S !== 'stored').map((h) => h.deliveryId?.S)).toEqual([]);
  }
});
