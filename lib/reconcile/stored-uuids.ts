/**
 * Which of a page's events the table already holds, read before writing: most events the System
 * Log returns were delivered by the hook, and a refused conditional put still costs write units
 * (and the user links before it cost theirs), while an eventually consistent read of a small item
 * costs half a read unit, a fraction of the price. Correctness does not rest on this read: an
 * event it misses (stored a moment ago) is refused by the conditional put as before.
 */
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
} from '@aws-sdk/client-dynamodb';
import { EVENT_PREFIX, eventKey } from '../store/event-items';

/** BatchGetItem's own limit. */
const BATCH_GET_LIMIT = 100;
const MAX_ROUNDS = 10;

export async function storedUuids(
  client: DynamoDBClient,
  tableName: string,
  uuids: readonly string[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const found = new Set<string>();
  const unique = [...new Set(uuids)];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
    let request: KeysAndAttributes | undefined = {
      Keys: unique.slice(i, i + BATCH_GET_LIMIT).map(eventKey),
      ProjectionExpression: 'pk',
    };
    for (let round = 0; request?.Keys?.length; round++) {
      if (round >= MAX_ROUNDS) throw new Error('DynamoDB left keys unprocessed ten times in a row');
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      const response: BatchGetItemCommandOutput = await client.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: request } }),
        { abortSignal: signal },
      );
      for (const item of response.Responses?.[tableName] ?? []) {
        const pk = item.pk?.S;
        if (pk?.startsWith(EVENT_PREFIX)) found.add(pk.slice(EVENT_PREFIX.length));
      }
      request = response.UnprocessedKeys?.[tableName];
    }
  }
  return found;
}
