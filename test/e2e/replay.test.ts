/**
 * `npm run okta -- replay`: stored events re-delivered from one stage to another, read from the
 * local table and through the read API, arrive as the same events, exactly once.
 */
import { eventJson } from '../../lib/store/event-items';
import { allItems } from '../helpers/dynamodb';
import { type TestStack, startTestStack } from '../helpers/offline';
import { runScript } from '../helpers/run';

const SOURCE_SECRET = 'Basic c291cmNl';
const TARGET_SECRET = 'Basic dGFyZ2V0';
const READ_TOKEN = 'replay-read-token';
let source: TestStack;
let target: TestStack;

beforeAll(async () => {
  [source, target] = await Promise.all([
    startTestStack({ OKTA_AUTH_SECRET: SOURCE_SECRET, EVENTS_API_TOKEN: READ_TOKEN }),
    startTestStack({ OKTA_AUTH_SECRET: TARGET_SECRET }),
  ]);
});

afterAll(async () => {
  const left = [...((await source?.stop()) ?? []), ...((await target?.stop()) ?? [])];
  expect(left).toEqual([]);
});

/** uuid → stored JSON text, for every event of a stack's table. */
async function storedEvents(stack: TestStack): Promise<Map<string, string>> {
  await stack.streams.idle();
  const items = await allItems(stack.db.client, stack.tableName);
  return new Map(
    items.filter((i) => i.itemType?.S === 'event').map((i) => [i.uuid!.S!, eventJson(i)]),
  );
}

it('replays every stored event into a second stage, unchanged, and a second replay adds nothing', async () => {
  const sent = await runScript('scripts/okta.ts', [
    'send',
    '--url',
    source.url,
    '--secret',
    SOURCE_SECRET,
    '--type',
    'all',
    '--count',
    '30',
    '--per-request',
    '4',
  ]);
  expect(sent.code).toBe(0);
  const original = await storedEvents(source);
  expect(original.size).toBe(30);

  const fromTable = await runScript(
    'scripts/okta.ts',
    ['replay', '--to', target.url, '--secret', TARGET_SECRET, '--per-request', '7'],
    { DYNAMODB_ENDPOINT: source.db.local.endpoint },
  );
  expect(fromTable.code).toBe(0);
  expect(fromTable.stdout).toContain('replayed 30 events in 5 deliveries: accepted 5, lost 0');
  expect(fromTable.stderr.split('\n').filter((l) => l.startsWith('replay '))).toHaveLength(5);
  const replayed = await storedEvents(target);
  expect(replayed.size).toBe(30);
  for (const [uuid, json] of original)
    expect(JSON.parse(replayed.get(uuid)!)).toEqual(JSON.parse(json));

  const fromApi = await runScript('scripts/okta.ts', [
    'replay',
    '--to',
    target.url,
    '--secret',
    TARGET_SECRET,
    '--from-url',
    source.offline.url,
    '--token',
    READ_TOKEN,
    '--type',
    'user.session.start',
  ]);
  expect(fromApi.code).toBe(0);
  expect(fromApi.stdout).toMatch(/replayed 3 events in 1 deliveries: accepted 1, lost 0/);
  expect((await storedEvents(target)).size).toBe(30);
});

it('reports lost events and exits 1 when the target refuses them', async () => {
  const refused = await runScript(
    'scripts/okta.ts',
    ['replay', '--to', target.url, '--secret', 'Basic wrong', '--per-request', '50'],
    { DYNAMODB_ENDPOINT: source.db.local.endpoint },
  );
  expect(refused.code).toBe(1);
  expect(refused.stdout).toContain('replayed 30 events in 1 deliveries: accepted 0, lost 30');
});

it('prints the exact requests with --dry-run and sends nothing', async () => {
  const before = (await storedEvents(target)).size;
  const dry = await runScript(
    'scripts/okta.ts',
    ['replay', '--to', 'http://localhost:9/hook', '--type', 'user.session.start', '--dry-run'],
    { DYNAMODB_ENDPOINT: source.db.local.endpoint },
  );
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('POST http://localhost:9/hook');
  expect(dry.stdout).toContain('"eventType":"com.okta.event_hook"');
  expect(dry.stdout).toContain('(dry run)');
  expect((await storedEvents(target)).size).toBe(before);
});

it('refuses bad arguments with exit code 2', async () => {
  const noTarget = await runScript('scripts/okta.ts', ['replay']);
  expect(noTarget.code).toBe(2);
  expect(noTarget.stderr).toContain('--to is required');
  const badTime = await runScript('scripts/okta.ts', [
    'replay',
    '--to',
    target.url,
    '--since',
    'monday',
  ]);
  expect(badTime.code).toBe(2);
  expect(badTime.stderr).toContain('--since must be an ISO 8601 date or time');
});
