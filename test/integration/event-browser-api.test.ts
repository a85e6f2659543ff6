/**
 * What the event browser adds on the server, in-process against DynamoDB Local: the event type
 * registry written with each delivery, /event-types, /event-counts, the `meta` of /events, and
 * the `ui` function (page, files, sign-in cookie, sign-out, refusals).
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { buildUiAssets } from '../../deploy/ui-assets';
import { loadConfig } from '../../lib/config';
import { sessionIdOf, signSession } from '../../lib/http/session';
import { SessionRevocations } from '../../lib/store/session-revocations';
import { parseDelivery } from '../../lib/okta/okta-contract';
import {
  type LogEvent,
  oktaEnvelope,
  oktaEvent,
  userFromLogin,
} from '../../lib/okta-simulator/events';
import { createReadApiHandler } from '../../lib/read-api/read-api';
import { type EventOrigin, EVENT_TYPE_PK, eventKey } from '../../lib/store/event-items';
import { EventQueries } from '../../lib/store/event-queries';
import { EventStore } from '../../lib/store/event-store';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
import type { UiAssets } from '../../lib/ui/ui-assets';
import { createUiHandler } from '../../lib/ui/ui-endpoint';
import { v1Event, v2Event } from '../helpers/api-gateway';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';

const TOKEN = 'browser-token-1-of-32-characters-at-least';
const TYPES = ['user.session.start', 'user.lifecycle.create', 'group.user_membership.add'] as const;
const LOGINS = ['ann@example.com', 'bob@example.com'];
const START = Date.parse('2026-11-01T08:00:00.000Z');

let db: TestDynamoDb;
let tableName: string;
let store: EventStore;
let queries: EventQueries;
let assets: UiAssets;
/** Every command the reads sent: the registry and the counts are Queries, never a Scan. */
const commands = new Set<string>();
/** 120 events, one a minute from START, types and users in turn. */
const events: LogEvent[] = Array.from({ length: 120 }, (_, i) =>
  oktaEvent(TYPES[i % 3]!, {
    published: new Date(START + i * 60_000),
    user: userFromLogin(LOGINS[i % 2]!),
    random: () => 0.5,
  }),
);

function meta(receivedAt: string, deliveryId: string, expiresAt?: number): EventOrigin {
  return { origin: 'hook', deliveryId, receivedAt, expiresAt };
}

async function store_(batch: LogEvent[], origin: EventOrigin): Promise<void> {
  const { events } = parseDelivery(Buffer.from(JSON.stringify(oktaEnvelope(batch))));
  await store.storeEvents(events, origin);
}

beforeAll(async () => {
  db = await startTestDynamoDb();
  tableName = await db.newTable();
  store = new EventStore(db.client, tableName);
  const readClient = createDynamoDbClient(
    { region: 'us-east-1', dynamodbEndpoint: db.local.endpoint },
    { requestTimeoutMs: 30_000 },
  );
  readClient.middlewareStack.add(
    (next, context) => (input) => {
      commands.add(String(context.commandName));
      return next(input);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  queries = new EventQueries(readClient, tableName);
  for (let i = 0; i < events.length; i += 30) {
    await store_(events.slice(i, i + 30), meta(`2026-11-02T00:00:0${i / 30}.000Z`, `d-${i}`));
  }
  assets = await buildUiAssets();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
}, 120_000);
afterAll(async () => {
  jest.restoreAllMocks();
  // GetItem: whether a cookie's session was signed out (lib/store/session-revocations.ts).
  expect([...commands].sort()).toEqual(['BatchGetItemCommand', 'GetItemCommand', 'QueryCommand']);
  queries?.client.destroy();
  await db?.stop();
});

/** Which events the filter matches, counted from the events themselves. */
function expected(filter: { type?: string; user?: string; since?: string; until?: string }) {
  return events.filter(
    (e) =>
      (!filter.type || e.eventType === filter.type) &&
      (!filter.user ||
        JSON.stringify([e.actor, e.target]).toLowerCase().includes(filter.user.toLowerCase())) &&
      (!filter.since || e.published >= filter.since) &&
      (!filter.until || e.published < filter.until),
  ).length;
}

describe('event type registry', () => {
  it('holds each type stored, once, with its latest receipt, outside both indexes', async () => {
    expect(await queries.listEventTypes()).toEqual(
      [...TYPES].sort().map((eventType) => ({ eventType, lastSeenAt: '2026-11-02T00:00:03.000Z' })),
    );
    const registry = (await allItems(db.client, tableName)).filter(
      (i) => i.pk?.S === EVENT_TYPE_PK,
    );
    expect(registry).toHaveLength(3);
    for (const item of registry) {
      expect(Object.keys(item).sort()).toEqual(['lastSeenAt', 'pk', 'sk']);
    }
    const listed = await queries.listEvents({ limit: 1000 });
    expect(listed.items).toHaveLength(events.length);
  });

  it('is not moved back by an older delivery arriving late, and follows retention', async () => {
    const table = await db.newTable();
    const own = new EventStore(db.client, table);
    const send = (receivedAt: string, expiresAt?: number) =>
      own.storeEvents(
        parseDelivery(Buffer.from(JSON.stringify(oktaEnvelope([oktaEvent('user.session.start')]))))
          .events,
        meta(receivedAt, receivedAt, expiresAt),
      );
    await send('2026-11-02T10:00:00.000Z', 1800000000);
    await send('2026-11-02T09:00:00.000Z', 1700000000); // late, older
    const [item] = (await allItems(db.client, table)).filter((i) => i.pk?.S === EVENT_TYPE_PK);
    expect(item).toMatchObject({
      sk: { S: 'user.session.start' },
      lastSeenAt: { S: '2026-11-02T10:00:00.000Z' },
      expiresAt: { N: '1800000000' },
    });
  });
});

describe('countEvents', () => {
  const within = { since: '2026-11-01T08:30:00.000Z', until: '2026-11-01T09:30:00.000Z' };
  it.each([
    ['all', {}],
    ['a type', { type: 'user.session.start' }],
    ['a user (any case)', { user: 'ANN@example.com' }],
    ['a type and a user', { type: 'user.lifecycle.create', user: 'bob@example.com' }],
    ['a range', within],
    [
      'a type, a user and a range',
      { type: 'user.session.start', user: 'ann@example.com', ...within },
    ],
  ])('counts exactly for %s', async (_, filter) => {
    const counts = await queries.countEvents(filter);
    expect(counts.total).toBe(expected(filter));
    expect(counts.total).toBeGreaterThan(0);
    expect(counts.complete).toBe(true);
    expect(counts.buckets.reduce((n, b) => n + b.count!, 0)).toBe(counts.total);
    expect(counts.buckets.length).toBeLessThanOrEqual(60);
    expect(counts.readUnits).toBeGreaterThan(0);
    for (const [i, b] of counts.buckets.entries()) {
      if (i > 0) expect(b.start).toBe(counts.buckets[i - 1]!.end);
    }
  });

  it('closes an open range at the oldest and newest event, per minute for two hours', async () => {
    const counts = await queries.countEvents({});
    expect(counts.since).toBe(events[0]!.published);
    expect(counts.until).toBe(new Date(START + 119 * 60_000 + 1).toISOString());
    expect(counts.bucketSeconds).toBe(120);
    expect(counts.buckets.map((b) => b.count)).toEqual([...Array(59).fill(2), 2]);
  });

  it('answers an empty range with no buckets', async () => {
    const counts = await queries.countEvents({ type: 'no.such.type' });
    expect(counts).toMatchObject({
      since: null,
      until: null,
      buckets: [],
      total: 0,
      complete: true,
    });
    const late = await queries.countEvents({ since: '2027-01-01T00:00:00.000Z' });
    expect(late.total).toBe(0);
  });

  it('counts the rest in parallel when the first page stops early, to the same result', async () => {
    const whole = await queries.countEvents({ type: 'user.session.start' });
    const split = await queries.countEvents({ type: 'user.session.start' }, { firstPageLimit: 7 });
    expect(split.buckets).toEqual(whole.buckets);
  });

  it('returns what it counted by the deadline and marks the rest as not counted', async () => {
    const full = await queries.countEvents({});
    const late = await queries.countEvents({}, { deadline: 0, firstPageLimit: 10 });
    expect(late.complete).toBe(false);
    // The first page (the 10 newest) was counted; the bucket it stopped in and all older ones not.
    const k = late.buckets.findLastIndex((b) => b.count === null);
    expect(k).toBeGreaterThan(0);
    expect(late.buckets.slice(0, k + 1).every((b) => b.count === null)).toBe(true);
    expect(late.buckets.slice(k + 1)).toEqual(full.buckets.slice(k + 1));
    expect(late.total).toBeLessThanOrEqual(10);
  });
});

describe('read API routes', () => {
  let handler: ReturnType<typeof createReadApiHandler>;
  beforeAll(() => {
    handler = createReadApiHandler({
      config: loadConfig({ STAGE: 'staging', EVENTS_API_TOKEN: TOKEN, EVENTS_TABLE: tableName }),
      queries,
    });
  });
  beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));

  function get(path: string, query: Record<string, string> = {}, headers?: Record<string, string>) {
    const event: APIGatewayProxyEventV2 = v2Event({
      method: 'GET',
      path,
      headers: headers ?? { authorization: `Bearer ${TOKEN}` },
    });
    event.queryStringParameters = query;
    return handler(event);
  }

  it('GET /event-types lists the registry; GET /event-counts counts the filter', async () => {
    const types = await get('/event-types');
    expect(types.statusCode).toBe(200);
    expect(types.headers).toMatchObject({ 'cache-control': 'no-store' });
    expect(
      JSON.parse(types.body!).eventTypes.map((t: { eventType: string }) => t.eventType),
    ).toEqual([...TYPES].sort());
    const counts = await get('/event-counts', {
      type: 'user.session.start',
      user: 'bob@example.com',
    });
    expect(counts.statusCode).toBe(200);
    expect(JSON.parse(counts.body!).total).toBe(
      expected({ type: 'user.session.start', user: 'bob@example.com' }),
    );
  });

  it.each([
    ['/event-counts', { limit: '5' }, 'unknown_parameter'],
    ['/event-counts', { since: 'soon' }, 'invalid_parameter'],
    ['/event-counts', { since: '2026-11-02', until: '2026-11-01' }, 'invalid_parameter'],
    ['/event-types', { type: 'x' }, 'unknown_parameter'],
  ])('GET %s %j → 400 %s', async (path, query, code) => {
    const response = await get(path, query);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!).error).toBe(code);
  });

  it('gives each listed event its meta: delivery, receipt and origin', async () => {
    const newest = events.at(-1)!;
    await db.client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: eventKey(newest.uuid),
        UpdateExpression: 'SET origin = :o',
        ExpressionAttributeValues: { ':o': { S: 'systemLog' } },
      }),
    );
    const body = JSON.parse((await get('/events', { limit: '3' })).body!);
    expect(body.meta.map((m: { uuid: string }) => m.uuid)).toEqual(
      body.events.map((e: { uuid: string }) => e.uuid),
    );
    expect(body.meta[0]).toEqual({
      uuid: newest.uuid,
      receivedAt: '2026-11-02T00:00:03.000Z',
      deliveryId: 'd-90',
      origin: 'systemLog',
    });
    expect(body.meta[1].origin).toBe('hook'); // as the store writes it since issue 11
  });

  it('accepts the session cookie, and refuses a forged one', async () => {
    const session = signSession(TOKEN, Math.floor(Date.now() / 1000) + 60);
    const ok = await get('/event-types', {}, { cookie: `okta-events-session=${session}` });
    expect(ok.statusCode).toBe(200);
    const forged = await get('/event-types', {}, { cookie: `okta-events-session=${session}x` });
    expect(forged.statusCode).toBe(401);
    // As HTTP API delivers it: in `cookies`, with no Cookie header.
    const event = v2Event({ method: 'GET', path: '/event-types', headers: {} });
    event.cookies = [`__Host-okta-events-session=${session}`];
    expect((await handler(event)).statusCode).toBe(200);
  });
});

describe('the ui function', () => {
  const config = loadConfig({
    STAGE: 'staging',
    EVENTS_API_TOKEN: `old-token-of-32-characters-or-more,${TOKEN}`,
  });
  let ui: ReturnType<typeof createUiHandler>;
  beforeAll(() => {
    ui = createUiHandler({
      config,
      assets,
      now: () => Date.parse('2026-11-01T08:00:00Z'),
      revocations: new SessionRevocations(db.client, tableName),
    });
  });
  beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));

  function call(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
    query?: Record<string, string>,
  ) {
    const event = v2Event({
      method,
      path,
      headers: { host: 'events.example.com', ...headers },
      body,
    });
    if (query) event.queryStringParameters = query;
    return ui(event);
  }

  it('serves the page and its files with the security headers; files cache by version', async () => {
    const page = await call('GET', '/ui');
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe(assets.html);
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': expect.stringContaining("default-src 'none'"),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    const script = await call('GET', '/ui/assets/app.js', {}, undefined, { v: assets.version });
    expect(script.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      etag: `"${assets.version}"`,
    });
    expect(script.body).toBe(assets.files['app.js']!.body);
    const unversioned = await call('GET', '/ui/assets/app.css');
    expect(unversioned.headers).toMatchObject({ 'cache-control': 'no-cache' });
    const again = await call('GET', '/ui/assets/app.css', {
      'if-none-match': `"${assets.version}"`,
    });
    expect(again.statusCode).toBe(304);
    expect((await call('GET', '/ui/assets/nope.js')).statusCode).toBe(404);
    expect((await call('GET', '/ui/assets/toString')).statusCode).toBe(404);
    expect((await call('POST', '/ui')).statusCode).toBe(405);
  });

  it('redirects /ui/ to /ui, whose relative file URLs resolve', async () => {
    const slash = await call('GET', '/ui/', {}, undefined, { view: 'deliveries' });
    expect(slash.statusCode).toBe(308);
    expect(slash.headers).toMatchObject({ location: '/ui?view=deliveries' });
    expect(slash.body).toBe('');
    expect((await call('GET', '/ui//')).headers).toMatchObject({ location: '/ui' });
  });

  it('signs in with a token into a cookie holding a signed expiry, and signs out', async () => {
    expect(JSON.parse((await call('GET', '/ui/session')).body!)).toEqual({
      tokenRequired: true,
      signedIn: false,
      signIns: { okta: false, token: true },
    });
    const json = { 'content-type': 'application/json', origin: 'https://events.example.com' };
    const wrong = await call('POST', '/ui/session', json, '{"token":"guess"}');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.cookies).toBeUndefined();

    const signedIn = await call('POST', '/ui/session', json, JSON.stringify({ token: TOKEN }));
    expect(signedIn.statusCode).toBe(200);
    // HTTP API (payload 2.0) takes Set-Cookie in `cookies`.
    expect(signedIn.cookies).toHaveLength(1);
    const cookie = signedIn.cookies![0]!;
    const expiry = Date.parse('2026-11-01T08:00:00Z') / 1000 + 43200;
    // A deployed stage is https: __Host- and Secure.
    const sessionId = sessionIdOf(cookie.split(/[=;]/)[1]!);
    expect(cookie).toBe(
      `__Host-okta-events-session=${signSession(TOKEN, expiry, sessionId)}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure`,
    );
    expect(cookie).not.toContain(TOKEN);
    expect(JSON.parse(signedIn.body!)).toEqual({
      tokenRequired: true,
      signedIn: true,
      expiresAt: '2026-11-01T20:00:00.000Z',
      signIns: { okta: false, token: true },
    });
    // ...and hands the browser's cookies over in `cookies`, not in a Cookie header.
    const asHttpApi = v2Event({ method: 'GET', path: '/ui/session' });
    asHttpApi.cookies = ['other=1', cookie.split(';')[0]!];
    expect(JSON.parse((await ui(asHttpApi)).body!)).toMatchObject({ signedIn: true });
    const asRestApi = v1Event({ method: 'GET', path: '/ui/session', headers: { Cookie: cookie } });
    expect(JSON.parse((await ui(asRestApi)).body!)).toMatchObject({ signedIn: true });

    const out = await call('DELETE', '/ui/session', { origin: 'https://events.example.com' });
    expect(out.statusCode).toBe(204);
    expect(out.cookies![0]).toContain('Max-Age=0');
    const restSignIn = await ui(
      v1Event({
        method: 'POST',
        path: '/ui/session',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: TOKEN }),
      }),
    );
    expect(restSignIn.headers!['set-cookie']).toMatch(/^__Host-okta-events-session=/);
  });

  it('signing out revokes the session on the server: a copied cookie is refused', async () => {
    // The real clock, as the read API's: sessions signed now are live now.
    const live = createUiHandler({
      config,
      assets,
      revocations: new SessionRevocations(db.client, tableName),
    });
    const json = {
      'content-type': 'application/json',
      origin: 'https://events.example.com',
      host: 'events.example.com',
    };
    const signIn = async () =>
      (
        await live(
          v2Event({
            method: 'POST',
            path: '/ui/session',
            headers: json,
            body: JSON.stringify({ token: TOKEN }),
          }),
        )
      ).cookies![0]!.split(';')[0]!;
    const copied = await signIn();
    const other = await signIn();
    const readApi = createReadApiHandler({
      config: loadConfig({ STAGE: 'staging', EVENTS_API_TOKEN: TOKEN, EVENTS_TABLE: tableName }),
      queries,
    });
    const read = (cookie: string) =>
      readApi(v2Event({ method: 'GET', path: '/event-types', headers: { cookie } }));
    expect((await read(copied)).statusCode).toBe(200);

    const out = await live(
      v2Event({ method: 'DELETE', path: '/ui/session', headers: { ...json, cookie: copied } }),
    );
    expect(out.statusCode).toBe(204);
    const refused = await read(copied);
    expect(refused.statusCode).toBe(401);
    expect(JSON.parse(refused.body!).message).toBe('This session was signed out: sign in again.');
    const state = await live(
      v2Event({ method: 'GET', path: '/ui/session', headers: { cookie: copied } }),
    );
    expect(JSON.parse(state.body!)).toEqual({
      tokenRequired: true,
      signedIn: false,
      signIns: { okta: false, token: true },
    });
    // Only that session: another sign-in with the same token still reads.
    expect((await read(other)).statusCode).toBe(200);
  });

  it('refuses sign-in from another origin, in another format, or without a token', async () => {
    const other = await call(
      'POST',
      '/ui/session',
      { 'content-type': 'application/json', origin: 'https://evil.example' },
      JSON.stringify({ token: TOKEN }),
    );
    expect(other.statusCode).toBe(403);
    expect(JSON.parse(other.body!).error).toBe('cross_origin');
    expect((await call('DELETE', '/ui/session', { origin: 'null' })).statusCode).toBe(403);
    const form = await call('POST', '/ui/session', { 'content-type': 'text/plain' }, TOKEN);
    expect(form.statusCode).toBe(415);
    const empty = await call('POST', '/ui/session', { 'content-type': 'application/json' }, '{}');
    expect(empty.statusCode).toBe(400);
    const huge = JSON.stringify({ token: 'x'.repeat(5000) });
    expect(
      (await call('POST', '/ui/session', { 'content-type': 'application/json' }, huge)).statusCode,
    ).toBe(413);
  });

  it('without a token: open on the local stage (plain cookie name), off on a deployed one', async () => {
    // Open locally only under serverless offline (IS_OFFLINE), as npm start runs it.
    const local = createUiHandler({ config: loadConfig({ IS_OFFLINE: 'true' }), assets });
    const state = await local(v2Event({ method: 'GET', path: '/ui/session' }));
    expect(JSON.parse(state.body!)).toEqual({
      tokenRequired: false,
      signedIn: true,
      signIns: { okta: false, token: false },
    });
    const off = createUiHandler({ config: loadConfig({ STAGE: 'production' }), assets });
    const refused = await off(v2Event({ method: 'GET', path: '/ui/session' }));
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body!).error).toBe('read_api_disabled');
    expect(refused.headers).toMatchObject({ 'content-security-policy': expect.any(String) });
  });
});
