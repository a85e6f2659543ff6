/**
 * The time part of an event's sort key (event-items canonicalTime): real times in time order, a
 * `published` that is not a time at the old end (never the newest for ever), and the kept text
 * cut on code points.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { canonicalTime, eventTimeKey } from '../../lib/store/event-items';
import { PROJECT_ROOT } from '../../lib/store/table-definition';
import type { OktaLogEvent } from '../../lib/okta/okta-contract';

const key = (published: string, uuid = 'u') =>
  eventTimeKey({ uuid, published, eventType: 't' } as OktaLogEvent);

/** DynamoDB orders string sort keys by their UTF-8 bytes; listings read them newest first. */
const newestFirst = (keys: string[]) =>
  [...keys].sort((a, b) => Buffer.compare(Buffer.from(b), Buffer.from(a)));

it('keeps real times in time order, in canonical form', () => {
  expect(canonicalTime('2026-11-01T10:00:00+01:00')).toBe('2026-11-01T09:00:00.000Z');
  const keys = [
    '2026-11-01T09:00:00.000Z',
    '1970-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
  ].map((p) => key(p));
  expect(newestFirst(keys).map((k) => k.slice(0, 4))).toEqual(['9999', '2026', '1970']);
});

it("takes a date-time without an offset as UTC, whatever the machine's zone", () => {
  // A process of its own: the zone is fixed when a process starts.
  const result = spawnSync(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'),
      '-e',
      "import { canonicalTime } from './lib/store/event-items';" +
        "console.log(new Date(2026, 0, 15).getTimezoneOffset(), canonicalTime('2026-01-15T09:00:00'), canonicalTime('2026-01-15'))",
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, TZ: 'America/New_York' }, encoding: 'utf8' },
  );
  expect(result.stdout.trim()).toBe('300 2026-01-15T09:00:00.000Z 2026-01-15T00:00:00.000Z');
});

it.each([
  'yesterday',
  'Nov 1', // Date.parse reads these as 2001 dates
  '12',
  'not a date',
  'zzz',
  '~',
  '\u{10FFFF}',
  '９９９９',
  '-1',
  '+275760-09-13T00:00:00.000Z',
  '1969-12-31T23:59:59Z',
])('sorts %j after every real time in a newest-first listing (the old end)', (published) => {
  const keys = newestFirst([
    key(published, 'odd'),
    key('1970-01-01T00:00:00.000Z', 'first'),
    key('2026-11-01T09:00:00.000Z', 'now'),
  ]);
  expect(keys.map((k) => k.slice(k.lastIndexOf('#') + 1))).toEqual(['now', 'first', 'odd']);
});

it('keeps the text of a non-time, recognisably, at most 64 code points', () => {
  expect(canonicalTime('yesterday')).toBe('0000-not-a-time:yesterday');
  const long = 'x'.repeat(100);
  expect(canonicalTime(long)).toBe(`0000-not-a-time:${'x'.repeat(64)}`);
});

it('never cuts a surrogate pair in half, and mends a lone one', () => {
  const cut = canonicalTime(`${'a'.repeat(63)}😀tail`);
  expect(cut.isWellFormed()).toBe(true);
  expect(cut.endsWith(`${'a'.repeat(63)}😀`)).toBe(true);
  expect(canonicalTime('😀'.repeat(100))).toBe(`0000-not-a-time:${'😀'.repeat(64)}`);
  expect(canonicalTime('bad\uD800time').isWellFormed()).toBe(true);
});
