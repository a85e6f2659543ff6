/**
 * The CLIs as people run them, stdout a real pipe: `| wc -c`, `| wc -l`, `| head -1`. Output is
 * complete when the reader reads it all (an export cut short with exit 0 is silent data loss),
 * and a reader that stops early is a normal end: no stack trace, the usual exit code.
 * Against DynamoDB Local (the local table) and a real `serverless offline` (the read API).
 */
import { compactJson, reindentJson } from '../../lib/okta/json-text';
import { type TestStack, startTestStack } from '../helpers/offline';
import { delivery, logEvent } from '../helpers/okta';
import { runScript } from '../helpers/run';

const SECRET = 'Basic cGlwZXM=';
const READ_TOKEN = 'pipes-read-token';
/** More than one page of 1,000 and far more than a pipe's 64 KB buffer. */
const SMALL_EVENTS = 2000;
let stack: TestStack;
let local: NodeJS.ProcessEnv;
let remote: NodeJS.ProcessEnv;

/** Over 1 MB of JSON (stored gzipped): 7,000 targets, quotes and non-ASCII included. */
const bigEvent = logEvent({
  published: '2026-11-01T12:00:00.000Z',
  target: Array.from({ length: 7000 }, (_, i) => ({
    type: 'Group', // no id or login: those would be copied into the item's own attributes
    displayName: `Zoë "${i}" Müller's group`,
    detailEntry: { note: 'a target among many, to make one large event' },
  })),
});
const bigUuid = bigEvent.uuid as string;
const bigJson = JSON.stringify(bigEvent, null, 1);
/** 5.6 MB of JSON, 9 MB in a Lambda response as text: the read API sends it gzipped. */
const hugeEvent = logEvent({
  published: '2026-01-01T00:00:00.000Z',
  debugContext: { debugData: { empty: Array(1_900_000).fill('') } },
});
const ALL_EVENTS = SMALL_EVENTS + 2;

/**
 * Posts a delivery to the webhook as Okta does; the stream stores its events. Sent again, as a
 * sender would, when a busy machine's cold function times out (offline then answers 200 with an
 * error): receiving is idempotent, and reading is what this file tests.
 */
async function post(events: Array<Record<string, unknown> | string>) {
  const texts = events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  const body = JSON.stringify(delivery([])).replace('"events":[]', `"events":[${texts.join(',')}]`);
  let status = 0;
  for (let attempt = 0; attempt < 5 && status !== 204; attempt++) {
    const response = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: SECRET },
      body,
    });
    status = response.status;
    await response.arrayBuffer();
  }
  expect(status).toBe(204);
}

beforeAll(async () => {
  stack = await startTestStack({
    OKTA_AUTH_SECRET: SECRET,
    EVENTS_API_TOKEN: READ_TOKEN,
    REQUEST_BUDGET_MS: '60000', // what is tested is reading; a busy machine's first requests are slow
  });
  local = { DYNAMODB_ENDPOINT: stack.db.local.endpoint };
  remote = { EVENTS_API_URL: stack.offline.url, EVENTS_API_TOKEN: READ_TOKEN };
  await post([bigJson]);
  await post([hugeEvent]);
  for (let i = 0; i < SMALL_EVENTS; i += 100) {
    await post(
      Array.from({ length: 100 }, (_, j) =>
        logEvent({ published: new Date(Date.UTC(2026, 9, 1) + (i + j) * 60_000).toISOString() }),
      ),
    );
  }
  await stack.streams.idle();
}, 600_000); // 2,002 events through the webhook and the stream, on a shared 2-core machine

afterAll(async () => {
  expect((await stack?.stop()) ?? []).toEqual([]);
});

describe('npm run events through a pipe', () => {
  it('get of a 1 MB event is complete, pretty and --json, from the table and the read API', async () => {
    expect(bigJson.length).toBeGreaterThan(1_000_000);
    for (const env of [local, remote]) {
      const pretty = await runScript('scripts/events.ts', ['get', bigUuid], env, 'wc -c');
      expect(pretty.stderr).toBe('');
      expect(pretty.code).toBe(0);
      expect(Number(pretty.stdout)).toBe(Buffer.byteLength(reindentJson(bigJson)) + 1);
      const json = await runScript('scripts/events.ts', ['get', bigUuid, '--json'], env, 'wc -c');
      expect(json.code).toBe(0);
      expect(Number(json.stdout)).toBe(Buffer.byteLength(compactJson(bigJson)) + 1);
    }
  });

  it('get of an event too large for a Lambda response as text comes gzipped, complete', async () => {
    const json = await runScript(
      'scripts/events.ts',
      ['get', hugeEvent.uuid as string, '--json'],
      remote,
      'wc -c',
    );
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(Number(json.stdout)).toBe(Buffer.byteLength(JSON.stringify(hugeEvent)) + 1);
    const url = `${stack.offline.url}/events/${hugeEvent.uuid as string}`;
    const authorization = `Bearer ${READ_TOKEN}`;
    const plain = await fetch(url, { headers: { authorization, 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(406);
    expect(await plain.json()).toMatchObject({ error: 'response_too_large' });
    const gzipped = await fetch(url, { headers: { authorization, 'accept-encoding': 'gzip' } });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(await gzipped.json()).toEqual(hugeEvent);
  });

  it('list --all --json | wc -l counts every event, from the table and the read API', async () => {
    for (const env of [local, remote]) {
      const listed = await runScript(
        'scripts/events.ts',
        ['list', '--all', '--json'],
        env,
        'wc -l',
      );
      expect(listed.code).toBe(0);
      expect(Number(listed.stdout)).toBe(ALL_EVENTS);
    }
  });

  it('list --all --json | head -1 ends cleanly: exit 0, one event, no stack trace', async () => {
    for (const env of [local, remote]) {
      for (const args of [
        ['list', '--all', '--json'],
        ['list', '--all'],
        ['get', bigUuid],
      ]) {
        const first = await runScript('scripts/events.ts', args, env, 'head -1');
        expect({ args, stderr: first.stderr.replace(/^… .*\n/gm, '') }).toEqual({
          args,
          stderr: '',
        });
        expect(first.code).toBe(0);
        expect(first.stdout.split('\n')).toHaveLength(2);
      }
    }
    const first = await runScript(
      'scripts/events.ts',
      ['list', '--all', '--json'],
      local,
      'head -1',
    );
    expect(JSON.parse(first.stdout).uuid).toBe(bigUuid);
  });

  it('deliveries --all --json | wc -l counts every delivery', async () => {
    const listed = await runScript(
      'scripts/events.ts',
      ['deliveries', '--all', '--json'],
      local,
      'wc -l',
    );
    expect(listed.code).toBe(0);
    expect(Number(listed.stdout)).toBe(SMALL_EVENTS / 100 + 2);
  });
});

describe('npm run okta through a pipe', () => {
  it('send --dry-run prints every request in full', async () => {
    const sent = await runScript('scripts/okta.ts', [
      'send',
      '--url',
      'http://localhost:9/hook',
      '--type',
      'all',
      '--count',
      '400',
      '--dry-run',
    ]);
    expect(sent.code).toBe(0);
    expect(sent.stdout.length).toBeGreaterThan(400_000);
    const requests = sent.stdout.trimEnd().split('\n\nPOST ');
    expect(requests).toHaveLength(400);
    const lastBody = requests.at(-1)!.split('\n\n').at(-1)!;
    expect(JSON.parse(lastBody).data.events).toHaveLength(1);
  });

  it('replay --dry-run prints every delivery and its summary line', async () => {
    const replayed = await runScript(
      'scripts/okta.ts',
      ['replay', '--to', 'http://localhost:9/hook', '--dry-run', '--per-request', '100'],
      local,
    );
    expect(replayed.code).toBe(0);
    const deliveries = Math.ceil(ALL_EVENTS / 100);
    expect(replayed.stdout.match(/^POST http:\/\/localhost:9\/hook$/gm)).toHaveLength(deliveries);
    expect(replayed.stdout.trimEnd().split('\n').at(-1)).toBe(
      `replayed ${ALL_EVENTS} events in ${deliveries} deliveries (dry run): accepted 0, lost 0`,
    );
  });

  it('send --dry-run | head -1 ends cleanly', async () => {
    const first = await runScript(
      'scripts/okta.ts',
      ['send', '--url', 'http://localhost:9/hook', '--type', 'all', '--count', '400', '--dry-run'],
      {},
      'head -1',
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('POST http://localhost:9/hook\n');
  });
});
