/**
 * Opaque pagination cursors: DynamoDB's ExclusiveStartKey plus the query it belongs to, with an
 * HMAC so that a cursor edited by hand, truncated, taken from another query or another stage,
 * or made up, is refused with 400 instead of reaching DynamoDB. The HMAC guards integrity, not
 * secrecy: anyone who can use a cursor can already read what it points at.
 *
 * The key is derived from the stage's read API tokens (HMAC of the table name under each
 * token), so it needs no secret of its own and differs per stage: someone without a token
 * cannot make a cursor. A token holder could derive the key and sign a start key of their
 * own; such a key is checked against the query (lib/store/event-queries.ts) and a start key
 * DynamoDB still refuses is a 400 too. Cursors are signed with the first token and accepted
 * under any, so they survive a rotation's overlap and end (400, start over) when the token
 * that signed them is removed. With no token (the local stage, the CLI on the local table)
 * the key comes from the table name alone.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { RequestError } from '../errors';

type Key = Record<string, AttributeValue>;

export function invalidCursor(): RequestError {
  return new RequestError(
    400,
    'invalid_cursor',
    'The cursor is not one this listing returned: repeat the request without it to start over.',
  );
}

export class CursorSigner {
  /** The first key signs; every key verifies. */
  private readonly keys: Buffer[];

  constructor(tableName: string, secrets: readonly string[] = []) {
    const label = `okta-events-cursor:${tableName}`;
    this.keys =
      secrets.length > 0
        ? secrets.map((secret) => createHmac('sha256', secret).update(label).digest())
        : [createHmac('sha256', 'no-read-token').update(label).digest()];
  }

  private static signature(payload: string, key: Buffer): Buffer {
    return createHmac('sha256', key).update(payload).digest().subarray(0, 16);
  }

  /** `scope` names the query (pattern and bounds) so a cursor only continues that same query. */
  encode(key: Key, scope: string): string {
    const strings: Record<string, string> = {};
    for (const [name, value] of Object.entries(key)) {
      if (value.S === undefined) throw new Error(`cursor key ${name} is not a string`);
      strings[name] = value.S;
    }
    const payload = Buffer.from(JSON.stringify({ q: scope, k: strings })).toString('base64url');
    return `${payload}.${CursorSigner.signature(payload, this.keys[0]!).toString('base64url')}`;
  }

  decode(cursor: string, scope: string): Key {
    const [payload, sig, extra] = cursor.split('.');
    if (!payload || !sig || extra !== undefined) throw invalidCursor();
    const given = Buffer.from(sig, 'base64url');
    let signed = false;
    for (const key of this.keys) {
      const expected = CursorSigner.signature(payload, key);
      signed = (given.length === expected.length && timingSafeEqual(given, expected)) || signed;
    }
    if (!signed) throw invalidCursor();
    let decoded: { q?: unknown; k?: unknown };
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalidCursor();
    }
    if (decoded.q !== scope || typeof decoded.k !== 'object' || decoded.k === null) {
      throw invalidCursor();
    }
    const key: Key = {};
    for (const [name, value] of Object.entries(decoded.k)) {
      if (typeof value !== 'string') throw invalidCursor();
      key[name] = { S: value };
    }
    return key;
  }
}
