/**
 * The plumbing every listing of the table shares: a Query planned over one partition and a time
 * range, its cursor signed and checked, pages bounded by bytes as sent, items fetched by key.
 * Public members are for the query modules beside this one (events, deliveries, counts).
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { CursorSigner, invalidCursor } from './cursor';
import { type Item, TIME_INDEX, TYPE_INDEX, userPk } from './event-items';
import {
  DEFAULT_LIMIT,
  MAX_PAGE_BYTES,
  type Page,
  type TimeRange,
  payloadBytes,
} from './query-parameters';
import type { EventMeta } from './read-records';

export type { EventMeta };

const BATCH_GET_SIZE = 100;

export interface EventQuery extends TimeRange {
  type?: string;
  user?: string;
  limit?: number;
  cursor?: string;
}

/** The sort-key condition for a time range over keys shaped `<ISO time>#...`. */
function rangeCondition(
  attribute: string,
  range: TimeRange,
  values: Record<string, AttributeValue>,
): string {
  if (range.since) values[':since'] = { S: range.since };
  if (range.until) values[':until'] = { S: range.until };
  // until is exclusive: '<until>#x' sorts after '<until>', so BETWEEN leaves it out.
  if (range.since && range.until) return ` AND ${attribute} BETWEEN :since AND :until`;
  if (range.since) return ` AND ${attribute} >= :since`;
  if (range.until) return ` AND ${attribute} < :until`;
  return '';
}

export interface PlannedQuery {
  index: string | undefined;
  hashAttribute: string;
  hashValue: string;
  rangeAttribute: string;
  input: {
    TableName: string;
    IndexName: string | undefined;
    KeyConditionExpression: string;
    ExpressionAttributeValues: Record<string, AttributeValue>;
  };
  keyNames: string[];
  scope: string;
}

export class KeyedQueries {
  protected readonly cursors: CursorSigner;

  /** `cursorSecrets`: the stage's read API tokens, from which cursors' signing key is derived. */
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    options: { cursorSecrets?: readonly string[] } = {},
  ) {
    this.cursors = new CursorSigner(tableName, options.cursorSecrets);
  }

  planEventQuery(query: EventQuery): PlannedQuery {
    const bounds = `${query.since ?? ''}|${query.until ?? ''}`;
    if (query.user) {
      const scope = `user:${query.user.toLowerCase()}|type:${query.type ?? ''}|${bounds}`;
      return this.plan(undefined, 'pk', userPk(query.user), 'sk', query, scope);
    }
    if (query.type) {
      return this.plan(
        TYPE_INDEX,
        'eventType',
        query.type,
        'timeKey',
        query,
        `type:${query.type}|${bounds}`,
      );
    }
    return this.plan(TIME_INDEX, 'itemType', 'event', 'timeKey', query, `all|${bounds}`);
  }

  /** A keys-only Query input for the plan's partition and [since, until). */
  rangeInput(plan: PlannedQuery, since: string, until: string) {
    return {
      TableName: this.tableName,
      IndexName: plan.index,
      KeyConditionExpression: '#h = :hash AND #r BETWEEN :since AND :until',
      ExpressionAttributeNames: {
        '#h': plan.hashAttribute,
        '#r': plan.rangeAttribute,
      } as Record<string, string>,
      ExpressionAttributeValues: {
        ':hash': { S: plan.hashValue },
        ':since': { S: since },
        ':until': { S: until },
      },
    };
  }

  /**
   * The page: found items (undefined where a key found none) in key order, until they reach
   * MAX_PAGE_BYTES as sent; the cursor resumes after the last key taken.
   */
  fillPage<T>(
    plan: PlannedQuery,
    keys: Item[],
    lastEvaluatedKey: Item | undefined,
    found: Array<T | undefined>,
    jsonOf: (item: T) => string,
  ): Page<T> {
    const items: T[] = [];
    let bytes = 0;
    for (const [i, item] of found.entries()) {
      if (item === undefined) continue;
      const size = payloadBytes(jsonOf(item)) + 1; // and its comma
      if (items.length > 0 && bytes + size > MAX_PAGE_BYTES) {
        return { items, nextCursor: this.cursor(plan, keys[i - 1]!) };
      }
      bytes += size;
      items.push(item);
    }
    return { items, nextCursor: lastEvaluatedKey ? this.cursor(plan, lastEvaluatedKey) : null };
  }

  /** A Query on the table (index undefined) or an index: one partition, a time range on its sort key. */
  plan(
    index: string | undefined,
    hashAttribute: string,
    hashValue: string,
    rangeAttribute: string,
    range: TimeRange,
    scope: string,
  ): PlannedQuery {
    const values: Record<string, AttributeValue> = { ':hash': { S: hashValue } };
    const condition = `${hashAttribute} = :hash${rangeCondition(rangeAttribute, range, values)}`;
    return {
      index,
      hashAttribute,
      hashValue,
      rangeAttribute,
      input: {
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
      },
      // ExclusiveStartKey: the table's key, plus the index's own key when querying an index.
      keyNames: index ? ['pk', 'sk', hashAttribute, rangeAttribute] : ['pk', 'sk'],
      scope,
    };
  }

  async query(plan: PlannedQuery, page: { limit?: number; cursor?: string }) {
    const startKey = page.cursor === undefined ? undefined : this.startKey(plan, page.cursor);
    try {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          ...plan.input,
          ScanIndexForward: false,
          Limit: page.limit ?? DEFAULT_LIMIT,
          ExclusiveStartKey: startKey,
        }),
      );
      return { keys: Items, lastEvaluatedKey: LastEvaluatedKey };
    } catch (error) {
      // A signed start key DynamoDB still refuses (e.g. outside the query's bounds) is the
      // cursor's fault, not a failure of the service.
      if (startKey && (error as Error).name === 'ValidationException') throw invalidCursor();
      throw error;
    }
  }

  /** The cursor's start key, when it is signed, made for this query, and shaped like its keys. */
  protected startKey(plan: PlannedQuery, cursor: string): Item {
    const key = this.cursors.decode(cursor, plan.scope);
    const names = Object.keys(key).sort().join();
    if (
      names !== [...plan.keyNames].sort().join() ||
      key[plan.hashAttribute]?.S !== plan.hashValue
    ) {
      throw invalidCursor();
    }
    return key;
  }

  protected cursor(plan: PlannedQuery, item: Item): string {
    const key: Item = {};
    for (const name of plan.keyNames) key[name] = item[name]!;
    return this.cursors.encode(key, plan.scope);
  }

  /**
   * Items by key, as a map from pk; retries keys DynamoDB leaves unprocessed. `attributes`
   * (pk among them) leaves the rest out of the answer, such as a delivery's body.
   */
  async batchGet(keys: Item[], attributes?: string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const unique = [...new Map(keys.map((k) => [k.pk!.S!, k])).values()];
    const projection = attributes && {
      ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
    };
    for (let i = 0; i < unique.length; i += BATCH_GET_SIZE) {
      let pending: Item[] = unique.slice(i, i + BATCH_GET_SIZE);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ...projection } },
          }),
        );
        for (const item of Responses?.[this.tableName] ?? []) found.set(item.pk!.S!, item);
        pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}

export function metaOf(uuid: string, item: Item): EventMeta {
  const meta: EventMeta = { uuid };
  for (const name of ['receivedAt', 'deliveryId', 'origin'] as const) {
    if (item[name]?.S !== undefined) meta[name] = item[name].S;
  }
  return meta;
}
