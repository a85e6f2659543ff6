/**
 * Pretty-printing of stored event JSON for display, token by token: only whitespace between
 * tokens changes, so every string and number is shown exactly as stored (JSON.parse would
 * round numbers beyond 2^53 and drop duplicate keys). Each token is classified for
 * highlighting. Pure: no DOM. The input is JSON the read API returned, hence valid.
 */

export type TokenKind = 'key' | 'string' | 'number' | 'literal' | 'punctuation' | 'space';

export interface Token {
  kind: TokenKind;
  text: string;
}

const SPACE = /\s/;

function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

function nextNonSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && SPACE.test(text[i]!)) i++;
  return i;
}

/** Tokens of `text`, re-indented by `indent` per level; their texts joined are the pretty JSON. */
export function prettyTokens(text: string, indent = '  '): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  const newline = () => tokens.push({ kind: 'space', text: '\n' + indent.repeat(depth) });
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (SPACE.test(c)) {
      i++;
    } else if (c === '"') {
      const end = endOfString(text, i);
      const isKey = text[nextNonSpace(text, end)] === ':';
      tokens.push({ kind: isKey ? 'key' : 'string', text: text.slice(i, end) });
      i = end;
    } else if (c === '{' || c === '[') {
      const j = nextNonSpace(text, i + 1);
      if (text[j] === '}' || text[j] === ']') {
        tokens.push({ kind: 'punctuation', text: c + text[j] });
        i = j + 1;
      } else {
        tokens.push({ kind: 'punctuation', text: c });
        depth++;
        newline();
        i++;
      }
    } else if (c === '}' || c === ']') {
      depth--;
      newline();
      tokens.push({ kind: 'punctuation', text: c });
      i++;
    } else if (c === ',') {
      tokens.push({ kind: 'punctuation', text: ',' });
      newline();
      i++;
    } else if (c === ':') {
      tokens.push({ kind: 'punctuation', text: ':' }, { kind: 'space', text: ' ' });
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s,:\]}]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      tokens.push({ kind: /^[-\d]/.test(word) ? 'number' : 'literal', text: word });
      i = j;
    }
  }
  return tokens;
}
