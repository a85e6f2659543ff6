/**
 * Opaque pagination cursors: DynamoDB's ExclusiveStartKey plus the query it belongs to, with an
 * HMAC so that a cursor edited by hand, truncated, or taken from another query is refused
 * with 400 instead of failing inside DynamoDB. The HMAC guards integrity, not secrecy: anyone
 * who can use a cursor can already read what it points at.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { RequestError } from '../errors';

type Key = Record<string, AttributeValue>;

function signature(payload: string, tableName: string): Buffer {
  return createHmac('sha256', `okta-events-cursor:${tableName}`)
    .update(payload)
    .digest()
    .subarray(0, 16);
}

function invalid(): RequestError {
  return new RequestError(
    400,
    'invalid_cursor',
    'The cursor is not one this listing returned: repeat the request without it to start over.',
  );
}

/** `scope` names the query (pattern and bounds) so a cursor only continues that same query. */
export function encodeCursor(key: Key, scope: string, tableName: string): string {
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(key)) {
    if (value.S === undefined) throw new Error(`cursor key ${name} is not a string`);
    strings[name] = value.S;
  }
  const payload = Buffer.from(JSON.stringify({ q: scope, k: strings })).toString('base64url');
  return `${payload}.${signature(payload, tableName).toString('base64url')}`;
}

export function decodeCursor(cursor: string, scope: string, tableName: string): Key {
  const [payload, sig, extra] = cursor.split('.');
  if (!payload || !sig || extra !== undefined) throw invalid();
  const expected = signature(payload, tableName);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let decoded: { q?: unknown; k?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (decoded.q !== scope || typeof decoded.k !== 'object' || decoded.k === null) throw invalid();
  const key: Key = {};
  for (const [name, value] of Object.entries(decoded.k)) {
    if (typeof value !== 'string') throw invalid();
    key[name] = { S: value };
  }
  return key;
}
