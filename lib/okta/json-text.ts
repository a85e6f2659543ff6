/**
 * A small, iterative JSON scanner over text that JSON.parse has already judged. It does two
 * things JSON.parse cannot: say, in the same words on every Node version, where invalid JSON broke (line and column), and
 * give the exact source text of each element of an array inside the document, so events are
 * stored as Okta sent them (numbers beyond 2^53 and duplicate keys included).
 * Iterative, not recursive, so hostile nesting depth cannot overflow the stack.
 */

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(
    readonly reason: string,
    readonly position: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

class Scanner {
  pos = 0;
  /**
   * `valid`: JSON.parse has accepted `text`, so strings need no checking and are skipped by
   * their closing quote (indexOf), several times faster than reading them character by
   * character; locating an error in invalid text checks everything.
   */
  constructor(
    readonly text: string,
    readonly valid = false,
  ) {}

  fail(reason?: string): never {
    const { text, pos } = this;
    const found =
      pos >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[pos])}`;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < pos && i < text.length; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new JsonSyntaxError(
      reason ? `${found}, ${reason}` : found,
      pos,
      line,
      pos - lineStart + 1,
    );
  }

  ws(): void {
    const { text } = this;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return;
      this.pos++;
    }
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  expect(char: string): void {
    this.ws();
    if (this.text[this.pos] !== char) this.fail(`expected '${char}'`);
    this.pos++;
  }

  /** Skips a string token and returns its source text, quotes included. */
  string(): string {
    const start = this.pos;
    this.skipString();
    return this.text.slice(start, this.pos);
  }

  /** Skips a string token. */
  skipString(): void {
    const { text } = this;
    if (text[this.pos] !== '"') this.fail('expected a string in double quotes');
    if (this.valid) {
      let end = this.pos;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) this.fail('unterminated string');
        let backslashes = 0; // a quote after an odd number of them is escaped
        while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      this.pos = end + 1;
      return;
    }
    this.pos++;
    for (;;) {
      if (this.pos >= text.length) this.fail('unterminated string');
      const c = text.charCodeAt(this.pos);
      if (c === 34) {
        this.pos++;
        return;
      }
      if (c < 0x20) this.fail('control characters must be escaped inside strings');
      if (c === 92) {
        this.pos++;
        const e = text[this.pos];
        if (e === 'u') {
          HEX4.lastIndex = this.pos + 1;
          if (!HEX4.test(text)) this.fail('\\u must be followed by four hex digits');
          this.pos += 5;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('invalid escape in string');
      }
      this.pos++;
    }
  }

  /** Reads `"key" :` and returns the decoded key. */
  key(): string {
    this.ws();
    if (this.peek() !== '"') this.fail('expected a property name in double quotes');
    const key = JSON.parse(this.string()) as string;
    this.expect(':');
    return key;
  }

  /** Skips `"key" :` without decoding the key: members being skipped need no name. */
  skipKey(): void {
    this.ws();
    if (this.peek() !== '"') this.fail('expected a property name in double quotes');
    this.skipString();
    this.expect(':');
  }

  scalar(): void {
    const { text } = this;
    const c = text[this.pos];
    if (c === '"') {
      this.skipString();
      return;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = this.pos;
      if (!NUMBER.test(text)) this.fail('invalid number');
      this.pos = NUMBER.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return;
      }
    }
    this.fail('expected a value');
  }

  /** Skips one complete value of any depth, validating it. */
  value(): void {
    const closers: string[] = [];
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === '{' || c === '[') {
        this.pos++;
        this.ws();
        const close = c === '{' ? '}' : ']';
        if (this.peek() === close) {
          this.pos++;
        } else {
          closers.push(close);
          if (close === '}') this.skipKey();
          continue;
        }
      } else {
        this.scalar();
      }
      // After a value: close finished containers, or move to the next member.
      for (;;) {
        const close = closers[closers.length - 1];
        if (close === undefined) return;
        this.ws();
        const d = this.peek();
        if (d === close) {
          this.pos++;
          closers.pop();
          continue;
        }
        if (d !== ',') this.fail(`expected ',' or '${close}'`);
        this.pos++;
        if (close === '}') this.skipKey();
        break;
      }
    }
  }

  /** Position of the value of the last `key` member of the object starting here (JSON.parse keeps the last). */
  member(key: string): number | undefined {
    this.ws();
    if (this.peek() !== '{') return undefined;
    this.pos++;
    this.ws();
    if (this.peek() === '}') return undefined;
    let found: number | undefined;
    for (;;) {
      const name = this.key();
      this.ws();
      if (name === key) found = this.pos;
      this.value();
      this.ws();
      if (this.peek() === '}') return found;
      this.expect(',');
    }
  }
}

/** Describes where and why `text` is not valid JSON; undefined when it is valid. */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.value();
    scanner.ws();
    if (scanner.pos < text.length) scanner.fail('expected the end of the document');
    return undefined;
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
}

/**
 * The source text of each element of the array found by following `path` through objects
 * from the root of valid JSON `text`; undefined when the path does not lead to an array.
 */
export function arrayElementTexts(text: string, path: readonly string[]): string[] | undefined {
  const scanner = new Scanner(text, true);
  for (const key of path) {
    const at = scanner.member(key);
    if (at === undefined) return undefined;
    scanner.pos = at;
  }
  scanner.ws();
  if (scanner.peek() !== '[') return undefined;
  scanner.pos++;
  const elements: string[] = [];
  scanner.ws();
  if (scanner.peek() === ']') return elements;
  for (;;) {
    scanner.ws();
    const start = scanner.pos;
    scanner.value();
    elements.push(text.slice(start, scanner.pos));
    scanner.ws();
    if (scanner.peek() === ']') return elements;
    scanner.expect(',');
  }
}

/**
 * Indentation stops growing at this depth: output grows as depth squared otherwise, and an
 * event nested 50,000 deep would not fit in a string. Past it, lines simply stay at this level.
 */
const MAX_INDENT_DEPTH = 40;

/**
 * Re-indents valid JSON by changing only the whitespace between tokens: every string and
 * number stays byte for byte as it was (JSON.stringify would round numbers beyond 2^53).
 */
export function reindentJson(text: string, indent = '  '): string {
  let out = '';
  let depth = 0;
  const newline = () => '\n' + indent.repeat(Math.min(depth, MAX_INDENT_DEPTH));
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === '{' || c === '[') {
      let j = i + 1;
      while (/\s/.test(text[j] ?? '')) j++;
      if (text[j] === '}' || text[j] === ']') {
        out += c + text[j];
        i = j;
      } else {
        depth++;
        out += c + newline();
      }
    } else if (c === '}' || c === ']') {
      depth--;
      out += newline() + c;
    } else if (c === ',') {
      out += ',' + newline();
    } else if (c === ':') {
      out += ': ';
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}

/** Valid JSON on one line: whitespace between tokens removed, every token kept as it was. */
export function compactJson(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    } else if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
      out += text.slice(start, i);
      start = i + 1;
    }
  }
  return out + text.slice(start);
}

/**
 * The deepest nesting of arrays and objects in `text` (strings skipped), stopping as soon as it
 * passes `limit`: one linear pass, run before JSON.parse so absurd depth costs nothing.
 */
export function nestingDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: skip to its closing quote
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) {
        if (text.charCodeAt(i) === 92) i++;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return deepest;
}
