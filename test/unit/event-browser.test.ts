/**
 * The event browser's pure parts, in Node: the URL state, the exact pretty-printer, the table
 * and CSV fields, the chart's buckets, and the built page itself (size, no inline code).
 */
import { gzipSync } from 'node:zlib';
import { buildUiAssets } from '../../deploy/ui-assets';
import { compactJson, reindentJson } from '../../lib/okta/json-text';
import { previewEvent } from '../../lib/okta-simulator/events';
import { bucketEdges } from '../../lib/store/event-counts';
import { CONTENT_SECURITY_POLICY } from '../../lib/ui/security-headers';
import { CSV_HEADER, csvField, csvRecord, eventRow } from '../../lib/ui/client/event-fields';
import { prettyTokens } from '../../lib/ui/client/json-tokens';
import { durationLabel, fromLocalInput, toLocalInput } from '../../lib/ui/client/time-format';
import {
  apiParams,
  isOpenEnded,
  parseView,
  resolveRange,
  viewToSearch,
} from '../../lib/ui/client/view-state';

describe('view state in the URL', () => {
  it('round-trips every filter, the page, live mode and the open event', () => {
    const search =
      '?type=user.session.start&user=jane%40example.com&since=2026-11-01T08%3A00%3A00.000Z' +
      '&until=2026-11-02T00%3A00%3A00.000Z&limit=20&cursor=abc.def&live=1&event=e-1';
    const view = parseView(search);
    expect(view).toEqual({
      type: 'user.session.start',
      user: 'jane@example.com',
      since: '2026-11-01T08:00:00.000Z',
      until: '2026-11-02T00:00:00.000Z',
      limit: 20,
      cursor: 'abc.def',
      live: true,
      event: 'e-1',
    });
    expect(viewToSearch(view)).toBe(search);
    expect(parseView(viewToSearch({ range: '24h', live: false }))).toEqual({
      range: '24h',
      live: false,
    });
    expect(viewToSearch({ live: false })).toBe('');
  });

  it('leaves out what it cannot understand instead of guessing', () => {
    expect(parseView('?since=yesterday&range=3w&limit=0&type=%20&live=yes&at=x')).toEqual({
      live: false,
    });
    // A quick range wins over explicit times; `at` only matters with a cursor.
    expect(parseView('?range=1h&since=2026-11-01&at=2026-11-01T00:00:00Z')).toEqual({
      range: '1h',
      live: false,
    });
  });

  it('resolves a quick range from the moment given, so later pages repeat the same query', () => {
    const at = Date.parse('2026-11-01T12:00:00Z');
    expect(resolveRange({ range: '1h' }, at)).toEqual({ since: '2026-11-01T11:00:00.000Z' });
    expect(apiParams({ type: 't', user: 'u', range: '15m' }, at).toString()).toBe(
      'type=t&user=u&since=2026-11-01T11%3A45%3A00.000Z',
    );
    expect(isOpenEnded({ until: '2026-11-01T11:00:00Z' }, at)).toBe(false);
    expect(isOpenEnded({ range: '1h' }, at)).toBe(true);
  });
});

describe('prettyTokens', () => {
  const stored =
    '{"uuid":"u-1","n":123456789012345678901234567890,"f":-1.5e-7,"s":"a \\" b, c: {d}","k":"k",' +
    '"k":"duplicate","e":[],"o":{},"l":[true,false,null],"nested":{"a":[{"b":1}]}}';

  it('changes only the whitespace between tokens: numbers, escapes and duplicate keys stay', () => {
    const text = prettyTokens(stored)
      .map((t) => t.text)
      .join('');
    expect(text).toBe(reindentJson(stored));
    expect(compactJson(text)).toBe(stored);
    expect(text).toContain('123456789012345678901234567890');
    expect(text.match(/"k": /g)).toHaveLength(2);
  });

  it('tells keys from string values, numbers and literals apart for highlighting', () => {
    const kinds = (kind: string) =>
      prettyTokens(stored)
        .filter((t) => t.kind === kind)
        .map((t) => t.text);
    expect(kinds('key')).toEqual([
      '"uuid"',
      '"n"',
      '"f"',
      '"s"',
      '"k"',
      '"k"',
      '"e"',
      '"o"',
      '"l"',
      '"nested"',
      '"a"',
      '"b"',
    ]);
    expect(kinds('string')).toEqual(['"u-1"', '"a \\" b, c: {d}"', '"k"', '"duplicate"']);
    expect(kinds('number')).toEqual(['123456789012345678901234567890', '-1.5e-7', '1']);
    expect(kinds('literal')).toEqual(['true', 'false', 'null']);
  });
});

describe('event rows and CSV', () => {
  it('shows a Preview delivery (actor and target null) without failing', () => {
    const row = eventRow(previewEvent('user.session.start', new Date('2026-11-01T08:00:00Z')));
    expect(row).toMatchObject({
      eventType: 'user.session.start',
      published: '2026-11-01T08:00:00.000Z',
      actor: undefined,
      targets: [],
      outcome: 'Success',
      source: 'hook',
    });
  });

  it('filters on actors and User targets only, and names groups by name, not "unknown"', () => {
    const row = eventRow(
      {
        uuid: 'u',
        actor: { id: '00u1', type: 'User', alternateId: 'a@x.com' },
        target: [
          { id: '00u2', type: 'User', alternateId: 'b@x.com', displayName: 'B' },
          { id: '00g1', type: 'UserGroup', alternateId: 'unknown', displayName: 'Sales' },
        ],
      },
      { uuid: 'u', origin: 'systemLog' },
    );
    expect(row.actor).toMatchObject({ label: 'a@x.com', userKey: 'a@x.com' });
    expect(row.targets.map((t) => [t.label, t.userKey])).toEqual([
      ['b@x.com', 'b@x.com'],
      ['Sales', undefined],
    ]);
    expect(row.source).toBe('systemLog');
  });

  it('quotes CSV fields as RFC 4180 asks, and defuses spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"\nthere')).toBe('"say ""hi""\nthere"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField(undefined)).toBe('');
    const record = csvRecord(eventRow({ uuid: 'u', published: 'p', eventType: 't' }));
    expect(record.split(',')).toHaveLength(CSV_HEADER.length);
    expect(record.endsWith('\r\n')).toBe(true);
  });
});

describe('time', () => {
  it('converts between ISO times and datetime-local values', () => {
    const iso = '2026-11-01T08:09:10.000Z';
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(fromLocalInput('')).toBeUndefined();
    expect(durationLabel(1)).toBe('1 second');
    expect(durationLabel(300)).toBe('5 minutes');
    expect(durationLabel(86400)).toBe('1 day');
  });
});

describe('bucketEdges', () => {
  const t = (iso: string) => Date.parse(iso);

  it('picks the smallest UTC-aligned width giving at most 60 buckets', () => {
    const { widthSeconds, edges } = bucketEdges(
      t('2026-11-01T08:00:07Z'),
      t('2026-11-01T09:00:00Z'),
    );
    expect(widthSeconds).toBe(60);
    expect(edges[0]).toBe(t('2026-11-01T08:00:07Z'));
    expect(edges[1]).toBe(t('2026-11-01T08:01:00Z'));
    expect(edges.at(-1)).toBe(t('2026-11-01T09:00:00Z'));
    expect(edges.length - 1).toBe(60);
  });

  it('widens to days for months, and copes with a 1 ms range', () => {
    const month = bucketEdges(t('2026-10-01T00:00:00Z'), t('2026-11-01T00:00:00Z'));
    expect(month.widthSeconds).toBe(86400);
    expect(month.edges.length - 1).toBeLessThanOrEqual(60);
    const tiny = bucketEdges(1000, 1001);
    expect(tiny).toEqual({ widthSeconds: 1, edges: [1000, 1001] });
  });
});

describe('the built page', () => {
  let assets: Awaited<ReturnType<typeof buildUiAssets>>;
  beforeAll(async () => {
    assets = await buildUiAssets();
  });

  it('keeps its script under 30 KB gzipped', () => {
    const script = assets.files['app.js']!.body;
    const gzipped = gzipSync(script).length;
    console.log(`event browser script: ${script.length} bytes, ${gzipped} gzipped`);
    expect(gzipped).toBeLessThan(30 * 1024);
  });

  it('has no inline script or style, loads only its own versioned files, links only to itself', () => {
    expect(assets.html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son\w+=/);
    const loads = [...assets.html.matchAll(/<(?:script|link)\b[^>]*\s(?:src|href)="([^"]+)"/g)];
    expect(loads.map((m) => m[1]).sort()).toEqual(
      ['app.css', 'app.js', 'icon.svg'].map((f) => `ui/assets/${f}?v=${assets.version}`),
    );
    // Navigation (the tabs, links between views) stays on the page, relative to the stage;
    // the one other link is the stage's own "Sign in with Okta" route.
    const links = [...assets.html.matchAll(/<a\b[^>]*\shref="([^"]+)"/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link).toMatch(/^ui(\?view=[a-z]+|\/login)?$/);
    expect(Object.keys(assets.files).sort()).toEqual(['app.css', 'app.js', 'icon.svg']);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });
});
