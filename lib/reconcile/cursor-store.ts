/**
 * Where the reconciler stands in an org's System Log: one item in the events table,
 *
 *   pk RECONCILE#<org host>   sk CURSOR
 *
 * holding the `next` URL of the last page stored (exactly as Okta gave it), the query it belongs
 * to, and how far the table is known to be complete. It is saved after each page's events are
 * durable, so a crash or timeout resumes at that page: nothing lost, at most one page read again.
 * Saves are conditional on the version read, so two passes running at once cannot move the
 * cursor backwards: the later one stops instead. The item has no itemType or eventType, so no
 * index and no listing ever sees it.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';

export const CURSOR_PREFIX = 'RECONCILE#';
const CURSOR_SK = 'CURSOR';

export interface ReconcileCursor {
  /** The `next` link to request first on the next pass. */
  nextUrl: string;
  /** The filter the link was made with ('' for none): another filter starts a new query. */
  query: string;
  /**
   * The table holds every event persisted in Okta before this time (ISO): the time of the
   * request that found the log exhausted, or the newest `published` read while catching up.
   */
  completeUntil: string;
  savedAt: string;
  /** Incremented by every save; a save expecting another version is refused. */
  version: number;
}

/** Another pass saved the cursor since this one read it. */
export class CursorConflictError extends Error {
  override name = 'CursorConflictError';
}

export function cursorKey(orgUrl: string) {
  return { pk: { S: CURSOR_PREFIX + new URL(orgUrl).host }, sk: { S: CURSOR_SK } };
}

export class CursorStore {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  async load(orgUrl: string): Promise<ReconcileCursor | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: cursorKey(orgUrl),
        ConsistentRead: true,
      }),
    );
    if (!Item?.nextUrl?.S) return undefined;
    return {
      nextUrl: Item.nextUrl.S,
      query: Item.query?.S ?? '',
      completeUntil: Item.completeUntil?.S ?? Item.savedAt?.S ?? new Date(0).toISOString(),
      savedAt: Item.savedAt?.S ?? new Date(0).toISOString(),
      version: Number(Item.version?.N ?? '0'),
    };
  }

  /** Saves `cursor` as version `expectedVersion + 1`; 0 expects no cursor yet. */
  async save(
    orgUrl: string,
    cursor: Omit<ReconcileCursor, 'version'>,
    expectedVersion: number,
  ): Promise<number> {
    const version = expectedVersion + 1;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...cursorKey(orgUrl),
            nextUrl: { S: cursor.nextUrl },
            query: { S: cursor.query },
            completeUntil: { S: cursor.completeUntil },
            savedAt: { S: cursor.savedAt },
            version: { N: String(version) },
          },
          ConditionExpression:
            expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
          ...(expectedVersion === 0
            ? {}
            : { ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new CursorConflictError(
          'another reconcile pass moved the cursor while this one ran: this one stops',
        );
      }
      throw error;
    }
    return version;
  }
}
