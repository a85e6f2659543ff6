/**
 * Reaction outcomes, listed without a Scan: each status is one partition of the byTime index
 * (itemType `reaction:<status>`, timeKey `<updatedAt>#<name>#<uuid>`), queried newest first; a
 * listing of every status merges the three partitions by timeKey. `name` is a filter on the
 * index's own keys (sk = REACTION#<name>), so a page may need more than one Query. The items
 * themselves come with BatchGetItem (the index is KEYS_ONLY). Shared by the read API and the CLI.
 *
 * The cursor is the last timeKey returned (signed, lib/store/cursor.ts): the next page reads
 * each partition from there down, so it works the same for one partition or three.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { RequestError } from '../errors';
import { CursorSigner, invalidCursor } from '../store/cursor';
import { type Item, TIME_INDEX, eventKey } from '../store/event-items';
import {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  type Page,
  type TimeRange,
  checkRange,
} from '../store/query-parameters';
import {
  OUTCOME_STATUSES,
  type OutcomeStatus,
  OutcomeStore,
  REACTION_PREFIX,
  type ReactionOutcome,
  itemTypeOf,
  toOutcome,
} from './outcomes';
import { REACTION_NAME } from './reaction';

export interface OutcomeQuery extends TimeRange {
  status?: OutcomeStatus;
  name?: string;
  limit?: number;
  cursor?: string;
}

/** Queries of one partition per page at most: a name filter on a long listing stops here. */
const MAX_QUERIES_PER_PARTITION = 10;
const BATCH_GET_SIZE = 100;

export function parseStatus(value: string): OutcomeStatus {
  if (!(OUTCOME_STATUSES as readonly string[]).includes(value)) {
    throw new RequestError(
      400,
      'invalid_parameter',
      `status must be one of ${OUTCOME_STATUSES.join(', ')}, got "${value.slice(0, 40)}"`,
    );
  }
  return value as OutcomeStatus;
}

export function parseReactionName(value: string): string {
  if (!REACTION_NAME.test(value)) {
    throw new RequestError(
      400,
      'invalid_parameter',
      `name must be a reaction name (lower-case letters, digits, dashes), got "${value.slice(0, 70)}"`,
    );
  }
  return value;
}

interface PartitionRead {
  keys: Item[];
  /** Every key of the partition in range was read. */
  exhausted: boolean;
  /** Where reading stopped (the last key examined), when not exhausted. */
  frontier?: string;
}

export class OutcomeQueries {
  private readonly store: OutcomeStore;
  private readonly cursors: CursorSigner;

  /** `cursorSecrets`: the stage's read API tokens, as for EventQueries (lib/store/cursor.ts). */
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    options: { cursorSecrets?: readonly string[] } = {},
  ) {
    this.store = new OutcomeStore(client, tableName);
    this.cursors = new CursorSigner(tableName, options.cursorSecrets);
  }

  /** The same queries, with cursors signed under these tokens (they rotate; the client stays). */
  withCursorSecrets(cursorSecrets: readonly string[]): OutcomeQueries {
    return new OutcomeQueries(this.client, this.tableName, { cursorSecrets });
  }

  /** Outcomes newest first (by their last update). */
  async list(query: OutcomeQuery): Promise<Page<ReactionOutcome>> {
    checkRange(query);
    const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const scope = `reactions|${query.status ?? ''}|${query.name ?? ''}|${query.since ?? ''}|${query.until ?? ''}`;
    let upper = query.until; // exclusive: no timeKey equals a bare time
    let after: string | undefined;
    if (query.cursor) {
      after = this.cursors.decode(query.cursor, scope).t?.S;
      if (after === undefined) throw invalidCursor();
      if (upper === undefined || after < upper) upper = after;
    }
    const statuses = query.status ? [query.status] : [...OUTCOME_STATUSES];
    const reads = await Promise.all(
      statuses.map((status) => this.readPartition(status, query, upper, after, limit)),
    );
    // Safe down to the highest point where a partition stopped: below it, one may hold more.
    const frontiers = reads.filter((r) => !r.exhausted).map((r) => r.frontier!);
    const frontier = frontiers.length > 0 ? frontiers.sort().at(-1) : undefined;
    const candidates = reads
      .flatMap((r) => r.keys)
      .filter((key) => frontier === undefined || key.timeKey!.S! >= frontier)
      .sort((a, b) => (a.timeKey!.S! < b.timeKey!.S! ? 1 : -1));
    const keys = candidates.slice(0, limit);
    const more = candidates.length > limit || frontier !== undefined;
    const last = keys.at(-1)?.timeKey?.S ?? frontier;
    const items = await this.batchGet(keys);
    return {
      items: keys
        .map((key) => items.get(`${key.pk!.S}|${key.sk!.S}`))
        .filter((item): item is Item => item !== undefined)
        .map(toOutcome),
      nextCursor: more && last ? this.cursors.encode({ t: { S: last } }, scope) : null,
    };
  }

  /** The outcomes of one event; undefined when no such event is stored. */
  async forEvent(uuid: string): Promise<ReactionOutcome[] | undefined> {
    const [event, outcomes] = await Promise.all([
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: eventKey(uuid),
          ProjectionExpression: 'pk',
        }),
      ),
      this.store.forEvent(uuid),
    ]);
    return event.Item ? outcomes : undefined;
  }

  private async readPartition(
    status: OutcomeStatus,
    range: OutcomeQuery,
    upper: string | undefined,
    after: string | undefined,
    limit: number,
  ): Promise<PartitionRead> {
    const values: Record<string, AttributeValue> = { ':type': { S: itemTypeOf(status) } };
    let condition = '#itemType = :type';
    if (range.since) values[':since'] = { S: range.since };
    if (upper) values[':upper'] = { S: upper };
    // BETWEEN includes its upper bound: the key equal to the cursor is dropped below.
    if (range.since && upper) condition += ' AND #timeKey BETWEEN :since AND :upper';
    else if (range.since) condition += ' AND #timeKey >= :since';
    else if (upper) condition += ' AND #timeKey <= :upper';
    let filter: string | undefined;
    if (range.name) {
      filter = 'sk = :sk';
      values[':sk'] = { S: REACTION_PREFIX + range.name };
    }
    const keys: Item[] = [];
    let startKey: Item | undefined;
    for (let queries = 0; queries < MAX_QUERIES_PER_PARTITION; queries++) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TIME_INDEX,
          KeyConditionExpression: condition,
          FilterExpression: filter,
          ExpressionAttributeNames: {
            '#itemType': 'itemType',
            ...(condition.includes('#timeKey') ? { '#timeKey': 'timeKey' } : {}),
          },
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // One more than the page, so a full page also tells whether more follow.
          Limit: limit + 1,
          ExclusiveStartKey: startKey,
        }),
      );
      keys.push(...(page.Items ?? []).filter((key) => key.timeKey?.S !== after));
      startKey = page.LastEvaluatedKey;
      if (!startKey) return { keys, exhausted: true };
      if (keys.length > limit) break;
    }
    return { keys, exhausted: false, frontier: startKey!.timeKey!.S! };
  }

  private async batchGet(keys: Item[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) {
      let pending: Item[] = keys
        .slice(i, i + BATCH_GET_SIZE)
        .map((k) => ({ pk: k.pk!, sk: k.sk! }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        for (const item of Responses?.[this.tableName] ?? []) {
          found.set(`${item.pk!.S}|${item.sk!.S}`, item);
        }
        pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}
