/**
 * Reconcile passes against a fake Okta org that misbehaves (issue 18): a `next` link to another
 * origin, a `next` link back to the same page, pages that repeat what was read, and events whose
 * `published` is not a time. Each pass ends with one clear line, and the cursor stays usable.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type Config, loadConfig } from '../../lib/config';
import { type FakeOrg, startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import { oktaEvents } from '../../lib/okta-simulator/events';
import { cursorKey } from '../../lib/reconcile/cursor-store';
import { type PassOptions, reconcilePass } from '../../lib/reconcile/reconcile-pass';
import { createSystemLogClient } from '../../lib/reconcile/reconciler';
import { EventStore } from '../../lib/store/event-store';
import { type TestDynamoDb, allItems, startTestDynamoDb } from '../helpers/dynamodb';

const TOKEN = '00reconcile-paging-token-77ab';
const FOREIGN = 'http://127.0.0.1:39004';

let db: TestDynamoDb;
let table: string;
let fake: FakeOrg;
beforeAll(async () => {
  db = await startTestDynamoDb();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(async () => {
  table = await db.newTable();
  fake = await startFakeOktaOrg({ apiToken: TOKEN, rateLimit: { limit: 1000, windowMs: 60_000 } });
});
afterEach(async () => {
  await fake?.stop();
});

function configFor(): Config {
  return loadConfig({
    EVENTS_TABLE: table,
    DYNAMODB_ENDPOINT: db.local.endpoint,
    OKTA_ORG_URL: fake.url,
    OKTA_API_TOKEN: TOKEN,
  });
}
/** A pass of pages of 2 events; a deadline so that a pass that would never end stops. */
function pass(options: Partial<PassOptions> = {}) {
  return reconcilePass(
    {
      client: createSystemLogClient(configFor()),
      store: new EventStore(db.client, table),
      dynamodb: db.client,
      tableName: table,
    },
    {
      lookbackHours: 24,
      retentionDays: 90,
      pageSize: 2,
      deadline: Date.now() + 60_000,
      pageReserveMs: 0,
      ...options,
    },
  );
}
async function savedCursor() {
  const { Item } = await db.client.send(
    new GetItemCommand({ TableName: table, Key: cursorKey(fake.url), ConsistentRead: true }),
  );
  return Item;
}
async function storedUuids(): Promise<string[]> {
  const items = await allItems(db.client, table);
  return items
    .filter((i) => i.pk?.S?.startsWith('EVENT#'))
    .map((i) => i.uuid!.S!)
    .sort();
}
const logRequests = () => fake.requests.filter((r) => r.path === '/api/v1/logs');

describe('a next link to another origin', () => {
  it('is refused before it is saved: the last good cursor stays, the line says how to reset, and the next pass goes on', async () => {
    const all = oktaEvents({ types: ['user.session.start'], count: 6 });
    fake.addEvents(all);
    // The second page's next link points elsewhere.
    let pages = 0;
    fake.rewriteNextLink = (next) => (++pages === 2 ? `${FOREIGN}/api/v1/logs?after=1_1` : next);
    const first = await pass();
    expect(first).toMatchObject({ status: 'failed', pages: 2, recovered: 4 });
    expect(first.reason).toBe(
      `Okta's next link cannot be followed: a System Log link points at ${FOREIGN}, not at the org ${fake.url}: refusing to send credentials there; the cursor stays at the last good page; to start again from a time, run \`npm run reconcile -- --since <ISO 8601 time>\``,
    );
    const cursor = await savedCursor();
    expect(new URL(cursor!.nextUrl!.S!).origin).toBe(fake.url);
    expect(logRequests().every((r) => r.status === 200)).toBe(true); // never sent elsewhere

    fake.rewriteNextLink = undefined;
    const second = await pass();
    expect(second).toMatchObject({ status: 'caught-up', from: 'cursor' });
    expect(await storedUuids()).toEqual(all.map((e) => e.uuid).sort());
  });

  it('already saved as the cursor (by an older version) fails with the way out, which works', async () => {
    fake.addEvents(oktaEvents({ types: ['user.session.start'], count: 3 }));
    await db.client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          ...cursorKey(fake.url),
          nextUrl: { S: `${FOREIGN}/api/v1/logs?after=1_1` },
          query: { S: '' },
          completeUntil: { S: new Date().toISOString() },
          savedAt: { S: new Date().toISOString() },
          version: { N: '3' },
        },
      }),
    );
    const wedged = await pass();
    expect(wedged).toMatchObject({ status: 'failed', requests: 0 });
    expect(wedged.reason).toMatch(
      /^the saved cursor cannot be followed: .*points at http:\/\/127\.0\.0\.1:39004.*npm run reconcile -- --since/,
    );
    const reset = await pass({ since: new Date(Date.now() - 3_600_000) });
    expect(reset).toMatchObject({ status: 'caught-up', from: 'since', recovered: 3 });
    expect(await pass()).toMatchObject({ status: 'caught-up', from: 'cursor' });
  });
});

describe('paging that goes round in circles', () => {
  it('a next link back to the page just read ends the pass with one clear line', async () => {
    fake.addEvents(oktaEvents({ types: ['user.session.start'], count: 3 }));
    fake.rewriteNextLink = (_next, self) => self;
    const result = await pass();
    expect(result).toMatchObject({ status: 'failed', pages: 1, requests: 1, recovered: 2 });
    expect(result.reason).toMatch(
      /^Okta's next link leads back to a page this pass already read \(\/api\/v1\/logs\?since=.*\): stopping the pass; to start again from a time, run `npm run reconcile -- --since <ISO 8601 time>` if it persists$/,
    );
  });

  it('pages that bring nothing new, five in a row, end the pass', async () => {
    fake.addEvents(oktaEvents({ types: ['user.session.start'], count: 3 }));
    // Ever-different links that all lead back to the start of the log.
    let n = 0;
    fake.rewriteNextLink = () =>
      `${fake.url}/api/v1/logs?limit=2&sortOrder=ASCENDING&after=0_0&n=${++n}`;
    const result = await pass();
    expect(result).toMatchObject({ status: 'failed', pages: 6, read: 12, recovered: 2 });
    expect(result.reason).toBe(
      'Okta answered 5 pages in a row holding only events this pass had read already: stopping the pass (cursor saved); to start again from a time, run `npm run reconcile -- --since <ISO 8601 time>` if it persists',
    );
  });
});

it('an event whose published is not a time is stored, and neither breaks nor moves the cursor', async () => {
  const [normal, notATime, future] = oktaEvents({ types: ['user.session.start'], count: 3 });
  fake.addEvents([
    normal!,
    { ...notATime!, published: 'zzzz-not-a-time' },
    { ...future!, published: '2999-01-01T00:00:00.000Z' },
  ]);
  const before = Date.now();
  const first = await pass({ pageSize: 1000 });
  expect(first).toMatchObject({
    status: 'caught-up',
    recovered: 3,
    newestPublished: '2999-01-01T00:00:00.000Z',
  });
  expect(Number.isFinite(first.lagSeconds)).toBe(true);
  const completeUntil = Date.parse((await savedCursor())!.completeUntil!.S!);
  expect(completeUntil).toBeGreaterThanOrEqual(before - 60_000);
  expect(completeUntil).toBeLessThanOrEqual(Date.now());
  expect(await storedUuids()).toEqual([normal!.uuid, notATime!.uuid, future!.uuid].sort());

  fake.addEvents([
    { ...oktaEvents({ types: ['user.session.start'], count: 1 })[0]!, published: 'zzzz' },
  ]);
  const second = await pass({ pageSize: 1000 });
  expect(second).toMatchObject({ status: 'caught-up', from: 'cursor', recovered: 1 });
  expect(Number.isFinite(second.lagSeconds)).toBe(true);
});
