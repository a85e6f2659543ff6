import { linkUrl, parseLinkHeader } from '../../lib/okta/link-header';

const SELF = 'https://acme.okta.com/api/v1/logs?since=2026-11-01T00%3A00%3A00.000Z&limit=1000';
const NEXT =
  'https://acme.okta.com/api/v1/logs?limit=1000&filter=eventType+eq+%22a%22+or+eventType+eq+%22b%22&after=1710000000000_1';

describe('Link headers as Okta sends them', () => {
  it('reads separate header lines (one link each)', () => {
    const lines = [`<${SELF}>; rel="self"`, `<${NEXT}>; rel="next"`];
    expect(parseLinkHeader(lines)).toEqual([
      { url: SELF, rels: ['self'] },
      { url: NEXT, rels: ['next'] },
    ]);
    expect(linkUrl(lines, 'next')).toBe(NEXT);
  });

  it('reads one comma-joined header, as Node fetch joins repeated lines', () => {
    const joined = `<${SELF}>; rel="self", <${NEXT}>; rel="next"`;
    expect(linkUrl(joined, 'next')).toBe(NEXT);
    expect(linkUrl(joined, 'self')).toBe(SELF);
    const fromFetch = new Headers([
      ['link', `<${SELF}>; rel="self"`],
      ['link', `<${NEXT}>; rel="next"`],
    ]).get('link');
    expect(linkUrl(fromFetch, 'next')).toBe(NEXT);
  });

  it('keeps commas and semicolons inside the URL and quoted parameters', () => {
    const url = 'https://acme.okta.com/api/v1/logs?q=a,b;c&after=1_2';
    const header = `<${url}>; title="one, two; three"; rel="next", <https://x/y>;rel=self`;
    expect(parseLinkHeader(header)).toEqual([
      { url, rels: ['next'] },
      { url: 'https://x/y', rels: ['self'] },
    ]);
  });

  it('matches relation types case-insensitively, also among several in one rel', () => {
    expect(linkUrl(`<${NEXT}>; REL="Self Next"`, 'next')).toBe(NEXT);
  });

  it('has no next link when there is none, or no header at all', () => {
    expect(linkUrl(`<${SELF}>; rel="self"`, 'next')).toBeUndefined();
    expect(linkUrl(null, 'next')).toBeUndefined();
    expect(linkUrl('', 'next')).toBeUndefined();
    expect(linkUrl('garbage, more garbage', 'next')).toBeUndefined();
  });
});
