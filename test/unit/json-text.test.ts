import {
  arrayElementTexts,
  compactJson,
  locateJsonError,
  reindentJson,
} from '../../lib/okta/json-text';

describe('locateJsonError agrees with JSON.parse', () => {
  const valid = [
    '{}',
    '[]',
    '0',
    '-1.5e+10',
    '"\\u00e9\\n"',
    ' {"a":[1,{"b":null}],"c":true} ',
    '[[[[[]]]]]',
    '{"":false}',
  ];
  const invalid = [
    '',
    '{',
    '[1,]',
    '{"a"}',
    '{"a":1,}',
    '01',
    '1.',
    '-',
    '"\\x"',
    '"\u0001"',
    'tru',
    '[1 2]',
    '{a:1}',
    '"\\u12"',
    '{"a":1}}',
  ];

  it.each(valid)('finds no error in %j', (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(locateJsonError(text)).toBeUndefined();
  });

  it.each(invalid)('finds the error in %j', (text) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(locateJsonError(text)).toBeDefined();
  });

  it('handles nesting far deeper than the call stack', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(locateJsonError(deep)).toBeUndefined();
    expect(locateJsonError(deep.slice(0, -1))?.reason).toMatch(/unexpected end of input/);
  });
});

describe('arrayElementTexts', () => {
  it('returns each element source text at a path', () => {
    expect(arrayElementTexts('{"a":{"b":[ 1 , {"x" : 2} ,"s"]}}', ['a', 'b'])).toEqual([
      '1',
      '{"x" : 2}',
      '"s"',
    ]);
  });
  it('returns undefined when the path does not lead to an array', () => {
    expect(arrayElementTexts('{"a":{"b":1}}', ['a', 'b'])).toBeUndefined();
    expect(arrayElementTexts('{"a":1}', ['a', 'b'])).toBeUndefined();
    expect(arrayElementTexts('[]', ['a'])).toBeUndefined();
  });
  it('matches escaped keys by their decoded name', () => {
    expect(arrayElementTexts('{"\\u0061":[true]}', ['a'])).toEqual(['true']);
  });
});

describe('reindentJson', () => {
  it('changes only whitespace: tokens, big numbers and strings stay as they were', () => {
    const text = '{"n":12345678901234567890,"s":"a, b: {c}","e":[],"o":{},"l":[1.50,"\\"q"]}';
    const out = reindentJson(text);
    expect(out.replace(/\s+(?=(?:[^"\\]|\\.|"(?:[^"\\]|\\.)*")*$)/g, '')).toBe(text);
    expect(out).toContain('12345678901234567890');
    expect(out).toContain('"a, b: {c}"');
    expect(JSON.parse(out)).toEqual(JSON.parse(text));
    expect(out.split('\n').length).toBeGreaterThan(5);
  });

  it('re-indents an event nested 50,000 deep: indentation stops growing past a depth', () => {
    const depth = 50_000;
    const text = `{"uuid":"deep","data":${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}}`;
    const out = reindentJson(text);
    expect(compactJson(out)).toBe(text);
    const widest = out.split('\n').reduce((max, line) => Math.max(max, line.length), 0);
    expect(widest).toBeLessThan(200);
  });
});

describe('arrayElementTexts on a top-level array (a System Log page, path [])', () => {
  it('gives each element exactly as written: big numbers, duplicate keys, escapes, spacing', () => {
    const page =
      ' [ {"uuid":"a","n":12345678901234567890,"k":1,"k":2} ,\n{"uuid":"b","s":"\\u00e9, ]"} ,[],"x"] ';
    expect(arrayElementTexts(page, [])).toEqual([
      '{"uuid":"a","n":12345678901234567890,"k":1,"k":2}',
      '{"uuid":"b","s":"\\u00e9, ]"}',
      '[]',
      '"x"',
    ]);
  });

  it('gives an empty list for an empty page and undefined for a document that is not an array', () => {
    expect(arrayElementTexts('[]', [])).toEqual([]);
    expect(arrayElementTexts(' [ ] ', [])).toEqual([]);
    expect(arrayElementTexts('{"data":[]}', [])).toBeUndefined();
  });
});
