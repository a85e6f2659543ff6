/**
 * Counts over time (the event browser's chart), read at query time from the same key ranges as
 * the listings, keys only: nothing extra is written per event.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { EVENT_PREFIX, type Item, TYPE_INDEX, userPk } from './event-items';
import type { KeyedQueries, PlannedQuery } from './keyed-query';
import { type TimeRange, checkRange } from './query-parameters';
import type { CountBucket, EventCounts } from './read-records';

export type { CountBucket, EventCounts };

export interface CountQuery extends TimeRange {
  type?: string;
  user?: string;
}

/** Most bars a chart gets: readable on a 390 px wide screen as on 1280 px. */
export const MAX_BUCKETS = 60;
/** Bucket widths in seconds, aligned to UTC; the smallest giving at most MAX_BUCKETS wins. */
const BUCKET_WIDTHS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
  604800, 2592000, 7776000, 31536000,
];
/** Parallel count queries: as the write path, enough to hide latency without self-throttling. */
const COUNT_CONCURRENCY = 8;
/** Times canonicalTime can produce; keys outside (published that was no time) are not counted. */
const FIRST_TIME = '1970-01-01T00:00:00.000Z';
const LAST_TIME = '9999-12-31T23:59:59.999Z';

/**
 * Bucket boundaries for [sinceMs, untilMs): the range's own ends, and UTC-aligned multiples of
 * the smallest width in BUCKET_WIDTHS that gives at most `maxBuckets` buckets.
 */
export function bucketEdges(
  sinceMs: number,
  untilMs: number,
  maxBuckets = MAX_BUCKETS,
): { widthSeconds: number; edges: number[] } {
  // Aligned buckets touched by [since, until): the partial first and last ones count too.
  const buckets = (w: number) => Math.ceil(untilMs / (w * 1000)) - Math.floor(sinceMs / (w * 1000));
  const widthSeconds =
    BUCKET_WIDTHS.find((w) => buckets(w) <= maxBuckets) ??
    Math.ceil((untilMs - sinceMs) / 1000 / (maxBuckets - 1));
  const width = widthSeconds * 1000;
  const edges = [sinceMs];
  for (let t = Math.floor(sinceMs / width) * width + width; t < untilMs; t += width) edges.push(t);
  edges.push(untilMs);
  return { widthSeconds, edges };
}

/** The time part of a timeKey or link sk (`<ISO time>#<uuid>`). */
function timeOf(key: string | undefined): string {
  return (key ?? '').split('#', 1)[0]!;
}

/** Index of the bucket holding `time` (canonical ISO strings compare as times). */
function bucketOf(edges: string[], time: string): number {
  let low = 0;
  let high = edges.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (edges[mid]! <= time) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The ISO time one millisecond later: an exclusive end that still holds events at `time`. */
function nextMs(time: string): string {
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? new Date(ms + 1).toISOString() : time;
}

export class EventCounter {
  constructor(private readonly queries: KeyedQueries) {}

  /**
   * How many events of the filter were published in each bucket of the range, counted at read
   * time from the keys-only index entries (or user link items): nothing extra is written per
   * event, and counts are exact whatever was redelivered or expired. An open range is first
   * closed at the filter's oldest and newest events (two one-key Queries).
   *
   * One Query reads the whole range, newest first; only when it stops at DynamoDB's 1 MB page
   * (about 8,000 keys) are the remaining buckets counted in parallel (Select COUNT), so a small
   * range costs one request and a large one is not read page after page. A type and a user
   * together read both key ranges and count their intersection. Buckets not counted by
   * `deadline` (epoch ms) are returned as null.
   */
  async count(
    query: CountQuery,
    {
      deadline = Infinity,
      maxBuckets = MAX_BUCKETS,
      /** Tests: end the first page early, as DynamoDB's 1 MB would on a large range. */
      firstPageLimit = undefined as number | undefined,
    } = {},
  ): Promise<EventCounts> {
    checkRange(query);
    const plan = this.queries.planEventQuery(query);
    const counter = { readUnits: 0 };
    const since = query.since ?? (await this.extent(plan, true, counter));
    const until =
      query.until ?? (await this.extent(plan, false, counter).then((t) => t && nextMs(t)));
    if (since === undefined || until === undefined || since >= until) {
      return {
        since: since ?? null,
        until: until ?? null,
        bucketSeconds: 0,
        buckets: [],
        total: 0,
        complete: true,
        readUnits: counter.readUnits,
      };
    }
    const { widthSeconds, edges: edgeMs } = bucketEdges(
      Date.parse(since),
      Date.parse(until),
      maxBuckets,
    );
    const edges = edgeMs.map((ms) => new Date(ms).toISOString());
    const counts =
      query.user && query.type
        ? await this.countIntersection(query.user, query.type, edges, deadline, counter)
        : await this.countRange(plan, edges, deadline, counter, firstPageLimit);
    const buckets = counts.map((count, i) => ({ start: edges[i]!, end: edges[i + 1]!, count }));
    return {
      since,
      until,
      bucketSeconds: widthSeconds,
      buckets,
      total: counts.reduce<number>((sum, n) => sum + (n ?? 0), 0),
      complete: counts.every((n) => n !== null),
      readUnits: counter.readUnits,
    };
  }

  /** The time of the filter's oldest (or newest) event, by one key read. */
  private async extent(
    plan: PlannedQuery,
    oldest: boolean,
    counter: { readUnits: number },
  ): Promise<string | undefined> {
    const { Items = [], ConsumedCapacity } = await this.queries.client.send(
      new QueryCommand({
        ...this.queries.rangeInput(plan, FIRST_TIME, LAST_TIME),
        ScanIndexForward: oldest,
        Limit: 1,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    counter.readUnits += ConsumedCapacity?.CapacityUnits ?? 0;
    const time = timeOf(Items[0]?.[plan.rangeAttribute]?.S);
    return time === '' ? undefined : time;
  }

  private async countRange(
    plan: PlannedQuery,
    edges: string[],
    deadline: number,
    counter: { readUnits: number },
    firstPageLimit: number | undefined,
  ): Promise<(number | null)[]> {
    const last = edges.length - 1;
    const counts: (number | null)[] = new Array<number | null>(last).fill(0);
    const first = await this.queries.client.send(
      new QueryCommand({
        ...this.queries.rangeInput(plan, edges[0]!, edges[last]!),
        ProjectionExpression: '#r',
        ScanIndexForward: false,
        Limit: firstPageLimit,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    counter.readUnits += first.ConsumedCapacity?.CapacityUnits ?? 0;
    for (const key of first.Items ?? []) {
      counts[bucketOf(edges, timeOf(key[plan.rangeAttribute]?.S))]!++;
    }
    const stop = first.LastEvaluatedKey;
    if (!stop) return counts;

    // The page ended inside bucket k: count the rest of k from there, and older buckets whole.
    const k = bucketOf(edges, timeOf(stop[plan.rangeAttribute]?.S));
    const tasks = Array.from({ length: k + 1 }, (_, i) => async () => {
      let startKey = i === k ? stop : undefined;
      let n = 0;
      do {
        if (Date.now() > deadline) {
          counts[i] = null;
          return;
        }
        const page = await this.queries.client.send(
          new QueryCommand({
            ...this.queries.rangeInput(plan, edges[i]!, edges[i + 1]!),
            Select: 'COUNT',
            ScanIndexForward: false,
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        counter.readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
        n += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      counts[i] = counts[i]! + n;
    });
    const queue = tasks.values();
    await Promise.all(
      Array.from({ length: Math.min(COUNT_CONCURRENCY, tasks.length) }, async () => {
        for (const task of queue) await task();
      }),
    );
    return counts;
  }

  /** A type and a user: the user's links and the type's keys in the range, intersected. */
  private async countIntersection(
    user: string,
    type: string,
    edges: string[],
    deadline: number,
    counter: { readUnits: number },
  ): Promise<(number | null)[]> {
    const since = edges[0]!;
    const until = edges[edges.length - 1]!;
    const userPlan = this.queries.plan(undefined, 'pk', userPk(user), 'sk', {}, '');
    const typePlan = this.queries.plan(TYPE_INDEX, 'eventType', type, 'timeKey', {}, '');
    const linked = new Map<string, string>(); // uuid -> time
    const ofType = new Set<string>();
    const complete =
      (await this.readKeys(userPlan, since, until, ['uuid', 'sk'], deadline, counter, (key) =>
        linked.set(key.uuid?.S ?? '', timeOf(key.sk?.S)),
      )) &&
      (await this.readKeys(typePlan, since, until, ['pk'], deadline, counter, (key) =>
        ofType.add(key.pk!.S!.slice(EVENT_PREFIX.length)),
      ));
    const counts: (number | null)[] = new Array<number | null>(edges.length - 1).fill(
      complete ? 0 : null,
    );
    if (!complete) return counts;
    for (const [uuid, time] of linked) if (ofType.has(uuid)) counts[bucketOf(edges, time)]!++;
    return counts;
  }

  /** Every key of a range, page after page; false when the deadline stopped it. */
  private async readKeys(
    plan: PlannedQuery,
    since: string,
    until: string,
    projection: string[],
    deadline: number,
    counter: { readUnits: number },
    onKey: (key: Item) => void,
  ): Promise<boolean> {
    let startKey: Item | undefined;
    do {
      if (Date.now() > deadline) return false;
      const input = this.queries.rangeInput(plan, since, until);
      projection.forEach((name, i) => (input.ExpressionAttributeNames[`#p${i}`] = name));
      const page = await this.queries.client.send(
        new QueryCommand({
          ...input,
          ProjectionExpression: projection.map((_, i) => `#p${i}`).join(', '),
          ExclusiveStartKey: startKey,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      counter.readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
      for (const key of page.Items ?? []) onKey(key);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return true;
  }
}
