/**
 * The table's stream, locally: reads DynamoDB Local's stream and invokes the functions that
 * serverless.yml puts on it, with Lambda's event source mapping semantics (what the
 * serverless-offline-dynamodb-streams plugin does not do, see DESIGN.md §9):
 *
 * - records in stream order, in batches of the function's `batchSize`, filtered by its
 *   `filterPatterns` (records that do not match are skipped, as Lambda drops them);
 * - a partial batch response (`ReportBatchItemFailures`) retries from the lowest failed record;
 *   a function error retries the batch, split in two first with `bisectBatchOnFunctionError`;
 * - after `maximumRetryAttempts` retries the batch goes to the on-failure path (a callback,
 *   which npm start prints and the tests record) and reading goes on.
 *
 * DynamoDB Local keeps stream records however the table was written, so the runner starts at
 * TRIM_HORIZON (or after its saved checkpoint) and skips what it already handled: a LATEST
 * iterator there can miss the first record (aws-sdk-java#2923).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  ResourceNotFoundException,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { parse } from 'yaml';
import { imageFromItem } from '../stream/stream-batch';
import type { Item } from '../store/event-items';
import { PROJECT_ROOT } from '../store/table-definition';

/** A function's `stream` event in serverless.yml, as far as the runner needs it. */
export interface StreamConsumer {
  /** The function's key in serverless.yml (`store`, `react`). */
  name: string;
  batchSize: number;
  maximumRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  filterPatterns: unknown[];
}

/** An invocation's outcome: the function's response, or the error it ended with. */
export type InvokeResult = { ok: true; response: unknown } | { ok: false; error: string };

export type Invoke = (consumer: string, event: DynamoDBStreamEvent) => Promise<InvokeResult>;

export interface FailedBatch {
  consumer: string;
  /** Sequence numbers of the records handed to the on-failure path. */
  sequenceNumbers: string[];
  attempts: number;
  error: string;
}

/** Every function of serverless.yml with a DynamoDB `stream` event on the table. */
export function streamConsumers(
  serverlessYml = join(PROJECT_ROOT, 'serverless.yml'),
): StreamConsumer[] {
  const doc = parse(readFileSync(serverlessYml, 'utf8'), { logLevel: 'silent' }) as {
    functions?: Record<string, { events?: Array<{ stream?: Record<string, unknown> }> }>;
  };
  const consumers: StreamConsumer[] = [];
  for (const [name, fn] of Object.entries(doc.functions ?? {})) {
    for (const { stream } of fn.events ?? []) {
      if (!stream || stream.type !== 'dynamodb') continue;
      consumers.push({
        name,
        batchSize: Number(stream.batchSize ?? 100),
        // Lambda's default is -1 (until the record expires): locally, a bound that ends.
        maximumRetryAttempts: Math.max(0, Number(stream.maximumRetryAttempts ?? 10)),
        bisectBatchOnFunctionError: stream.bisectBatchOnFunctionError === true,
        reportBatchItemFailures: stream.functionResponseType === 'ReportBatchItemFailures',
        filterPatterns: (stream.filterPatterns as unknown[] | undefined) ?? [],
      });
    }
  }
  return consumers;
}

/**
 * Lambda's event filtering, for the patterns this project uses: nested objects, lists of exact
 * values, `{prefix}` and `{exists}`; a record matches when any pattern matches.
 */
export function matchesFilters(record: DynamoDBRecord, patterns: unknown[]): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matches(record, pattern));
}

function matches(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((option) => {
      if (option && typeof option === 'object') {
        const rule = option as { prefix?: string; exists?: boolean };
        if (rule.prefix !== undefined)
          return typeof value === 'string' && value.startsWith(rule.prefix);
        if (rule.exists !== undefined) return (value !== undefined) === rule.exists;
        return false;
      }
      return value === option;
    });
  }
  if (pattern && typeof pattern === 'object') {
    if (!value || typeof value !== 'object') {
      // {exists: false} deeper down still matches a missing object
      return Object.values(pattern).every((p) => matches(undefined, p));
    }
    return Object.entries(pattern).every(([key, p]) =>
      matches((value as Record<string, unknown>)[key], p),
    );
  }
  return false;
}

/** A stream record as Lambda hands it to a function (binary values base64, times in seconds). */
export function lambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const r = record.dynamodb ?? {};
  const image = (item: Record<string, unknown> | undefined) =>
    item === undefined ? undefined : imageFromItem(item as Item);
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime:
        r.ApproximateCreationDateTime === undefined
          ? undefined
          : Math.floor(new Date(r.ApproximateCreationDateTime).getTime() / 1000),
      Keys: image(r.Keys),
      NewImage: image(r.NewImage),
      OldImage: image(r.OldImage),
      SequenceNumber: r.SequenceNumber,
      SizeBytes: r.SizeBytes,
      StreamViewType: r.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
  };
}

function sequence(record: DynamoDBRecord): bigint {
  return BigInt(record.dynamodb?.SequenceNumber ?? '0');
}

export interface StreamRunnerOptions {
  client: DynamoDBClient;
  /** DynamoDB Local's endpoint (the streams API is served on the same port). */
  endpoint: string;
  region: string;
  tableName: string;
  invoke: Invoke;
  consumers?: StreamConsumer[];
  /** Where the last handled sequence number of each consumer is kept across restarts. */
  checkpointFile?: string;
  onFailure?: (failure: FailedBatch) => void;
  /** A line about what the runner does (retries), for npm start's console. */
  onLine?: (line: string) => void;
  pollMs?: number;
  /** Pause before retrying a failed batch, doubled each attempt (Lambda retries at once). */
  retryBaseMs?: number;
}

export interface StreamRunner {
  /** Resolves once every record written before the call has been handled by every consumer. */
  idle(): Promise<void>;
  stop(): Promise<void>;
  failures: FailedBatch[];
}

/**
 * The saved checkpoints; a file that is not what this runner writes (torn by a crash before
 * writes were atomic, edited by hand) is reported and ignored: reading starts at the oldest
 * record, which only repeats work, since every consumer is idempotent.
 */
export function loadCheckpoints(
  file: string,
  onLine: (line: string) => void,
): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      Array.isArray(parsed) ||
      !Object.values(parsed).every((v) => typeof v === 'string' && /^\d+$/.test(v))
    ) {
      throw new Error('not an object of sequence numbers');
    }
    return parsed as Record<string, string>;
  } catch (error) {
    onLine(
      `stream: WARNING: ignoring ${file} (${(error as Error).message.slice(0, 120)}); reading the stream again from its oldest record (storing is idempotent)`,
    );
    return {};
  }
}

/** Temp file then rename: a crash mid-write leaves the old file or the new one, never half. */
function writeCheckpoints(file: string, checkpoints: Record<string, string>): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(checkpoints));
  renameSync(temp, file);
}

/** Starts reading the table's stream; throws when the table has no stream. */
export async function startStreamRunner(options: StreamRunnerOptions): Promise<StreamRunner> {
  const {
    client,
    tableName,
    invoke,
    region,
    pollMs = 50,
    retryBaseMs = 50,
    onLine = () => undefined,
  } = options;
  const consumers = options.consumers ?? streamConsumers();
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn)
    throw new Error(`Table ${tableName} has no stream: recreate it from serverless.yml`);
  const streams = new DynamoDBStreamsClient({
    region,
    endpoint: options.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  const checkpoints: Record<string, string> = options.checkpointFile
    ? loadCheckpoints(options.checkpointFile, onLine)
    : {};
  const checkpointKey = (consumer: string) => `${streamArn}|${consumer}`;
  const handled = new Map(
    consumers.map((c) => [c.name, BigInt(checkpoints[checkpointKey(c.name)] ?? '-1')]),
  );
  const saveCheckpoint = (consumer: string, seq: bigint) => {
    handled.set(consumer, seq);
    if (!options.checkpointFile) return;
    checkpoints[checkpointKey(consumer)] = seq.toString();
    try {
      writeCheckpoints(options.checkpointFile, checkpoints);
    } catch (error) {
      // Not fatal: the records are read again after a restart, and storing them is idempotent.
      onLine(`stream: could not save ${options.checkpointFile} (${(error as Error).message})`);
    }
  };

  const failures: FailedBatch[] = [];
  let stopped = false;
  let waiters: Array<() => void> = [];
  const iterators = new Map<string, string | undefined>(); // shardId -> iterator; undefined = closed
  let lastSeen = -1n;

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function freshIterator(shardId: string): Promise<string | undefined> {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    return ShardIterator;
  }

  /** New records of every shard, oldest first; each consumer skips what it already handled. */
  async function readAll(): Promise<DynamoDBRecord[]> {
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    const records: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId!;
      if (iterators.has(shardId) && iterators.get(shardId) === undefined) continue; // closed, read
      let iterator = iterators.get(shardId) ?? (await freshIterator(shardId));
      for (let page = 0; iterator && page < 10; page++) {
        let result;
        try {
          result = await streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
          );
        } catch (error) {
          if (
            error instanceof TrimmedDataAccessException ||
            error instanceof ExpiredIteratorException ||
            error instanceof ResourceNotFoundException
          ) {
            iterator = await freshIterator(shardId); // start over; handled records are skipped
            continue;
          }
          throw error;
        }
        const got = result.Records ?? [];
        for (const record of got) {
          const converted = lambdaRecord(record, streamArn!, region);
          if (sequence(converted) > lastSeen) {
            records.push(converted);
          }
        }
        iterator = result.NextShardIterator;
        if (got.length === 0) break;
      }
      iterators.set(shardId, iterator);
    }
    records.sort((a, b) => (sequence(a) < sequence(b) ? -1 : 1));
    return records;
  }

  /** Lambda's semantics for one batch of one consumer; resolves when the batch is done with. */
  async function runBatch(
    consumer: StreamConsumer,
    batch: DynamoDBRecord[],
    attempts = 0,
  ): Promise<void> {
    let pending = batch;
    for (;;) {
      if (stopped) return;
      const result = await invoke(consumer.name, { Records: pending });
      let failedFrom: number;
      let error: string;
      if (result.ok) {
        const response = result.response as Partial<DynamoDBBatchResponse> | null;
        const failed = consumer.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
        if (failed.length === 0) return;
        const ids = failed.map((f) => f.itemIdentifier);
        const index = pending.findIndex((r) => ids.includes(r.dynamodb?.SequenceNumber ?? ''));
        // An identifier that names no record of the batch fails the whole batch, as on Lambda.
        failedFrom = index === -1 ? 0 : index;
        error = `${failed.length} record(s) reported failed`;
      } else {
        failedFrom = 0;
        error = result.error;
      }
      pending = pending.slice(failedFrom);
      attempts++;
      if (attempts > consumer.maximumRetryAttempts) {
        const failure: FailedBatch = {
          consumer: consumer.name,
          sequenceNumbers: pending.map((r) => r.dynamodb?.SequenceNumber ?? ''),
          attempts,
          error,
        };
        failures.push(failure);
        options.onFailure?.(failure);
        return;
      }
      onLine(
        `stream: ${consumer.name} failed (${error.slice(0, 200)}); retry ${attempts} of ${consumer.maximumRetryAttempts}`,
      );
      await sleep(Math.min(retryBaseMs * 2 ** (attempts - 1), 2000));
      if (!result.ok && consumer.bisectBatchOnFunctionError && pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        await runBatch(consumer, pending.slice(0, half), attempts);
        await runBatch(consumer, pending.slice(half), attempts);
        return;
      }
    }
  }

  /**
   * Each consumer works through its own queue, as each event source mapping reads the stream on
   * its own: one that is slow or retrying (react, its receiver down) holds back only itself.
   */
  const queues = new Map(consumers.map((c) => [c.name, [] as DynamoDBRecord[]]));
  const draining = new Map<string, Promise<void>>();

  function enqueue(records: DynamoDBRecord[]): void {
    for (const consumer of consumers) {
      const queue = queues.get(consumer.name)!;
      const after =
        queue.length > 0 ? sequence(queue[queue.length - 1]!) : handled.get(consumer.name)!;
      queue.push(...records.filter((r) => sequence(r) > after));
      if (queue.length > 0 && !draining.has(consumer.name)) {
        const run = drain(consumer).finally(() => draining.delete(consumer.name));
        draining.set(consumer.name, run);
      }
    }
  }

  /** Batches of the records the consumer's filters let through, in stream order. */
  async function drain(consumer: StreamConsumer): Promise<void> {
    const queue = queues.get(consumer.name)!;
    while (queue.length > 0 && !stopped) {
      const batch: DynamoDBRecord[] = [];
      let taken = 0;
      for (const record of queue) {
        taken++;
        if (matchesFilters(record, consumer.filterPatterns)) batch.push(record);
        if (batch.length === consumer.batchSize) break;
      }
      const last = queue[taken - 1]!;
      if (batch.length > 0) {
        try {
          await runBatch(consumer, batch);
        } catch (error) {
          onLine(`stream: ${consumer.name} could not be invoked (${(error as Error).message})`);
          await sleep(500);
          continue; // the same records again
        }
      }
      if (stopped) return; // not checkpointed: read again after a restart
      queue.splice(0, taken);
      saveCheckpoint(consumer.name, sequence(last));
    }
  }

  const idleConsumers = () => consumers.every((c) => queues.get(c.name)!.length === 0);

  const loop = (async () => {
    while (!stopped) {
      const released = waiters;
      waiters = [];
      try {
        const records = await readAll();
        if (records.length > 0) {
          lastSeen = sequence(records[records.length - 1]!);
          enqueue(records);
        }
        // Idle: nothing new on the stream, and every consumer has handled what it was given.
        if (records.length > 0 || !idleConsumers()) {
          waiters.push(...released);
          await sleep(pollMs);
          continue;
        }
      } catch (error) {
        if (stopped) break;
        onLine(`stream: reading the stream failed (${(error as Error).message}); trying again`);
        waiters.push(...released);
        await sleep(500);
        continue;
      }
      for (const release of released) release();
      await sleep(pollMs);
    }
    await Promise.all(draining.values());
    for (const release of waiters) release();
  })();

  return {
    failures,
    idle: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async stop() {
      stopped = true;
      await loop;
      streams.destroy();
    },
  };
}

/** Wait for an invocation's answer beyond the function's own timeout before calling it lost. */
const INVOKE_MARGIN_MS = 30_000;

/** Each stream function's timeout in serverless.yml (Lambda's default is 6 s), in ms. */
export function functionTimeoutsMs(
  serverlessYml = join(PROJECT_ROOT, 'serverless.yml'),
): Record<string, number> {
  const doc = parse(readFileSync(serverlessYml, 'utf8'), { logLevel: 'silent' }) as {
    provider?: { timeout?: number };
    functions?: Record<string, { timeout?: number }>;
  };
  return Object.fromEntries(
    Object.entries(doc.functions ?? {}).map(([name, fn]) => [
      name,
      Number(fn.timeout ?? doc.provider?.timeout ?? 6) * 1000,
    ]),
  );
}

/**
 * Invokes a function through serverless offline's Lambda API, as the event source mapping
 * invokes it on AWS. A function error comes back with `X-Amz-Function-Error`. An invocation
 * that never answers (serverless offline drops the ones in flight when a source file changes
 * and it reloads) fails after the function's timeout and a margin, as a timed-out Lambda does,
 * and is retried: waiting for it would stall the stream for good.
 */
export function offlineInvoker(
  lambdaPort: number,
  service: string,
  stage: string,
  timeoutMs: (consumer: string) => number = (() => {
    const timeouts = functionTimeoutsMs();
    return (consumer: string) => (timeouts[consumer] ?? 6000) + INVOKE_MARGIN_MS;
  })(),
): Invoke {
  return async (consumer, event) => {
    const limit = timeoutMs(consumer);
    let response: Response;
    let text: string;
    try {
      response = await fetch(
        `http://127.0.0.1:${lambdaPort}/2015-03-31/functions/${service}-${stage}-${consumer}/invocations`,
        { method: 'POST', body: JSON.stringify(event), signal: AbortSignal.timeout(limit) },
      );
      text = await response.text();
    } catch (error) {
      if ((error as Error).name !== 'TimeoutError') throw error;
      return { ok: false, error: `no answer from serverless offline within ${limit} ms` };
    }
    if (!response.ok || response.headers.get('x-amz-function-error')) {
      let message = text;
      try {
        const body = JSON.parse(text) as { errorMessage?: string; Message?: string };
        message = body.errorMessage ?? body.Message ?? text;
      } catch {
        // not JSON: keep the text
      }
      return { ok: false, error: `${response.status} ${message}`.slice(0, 500) };
    }
    return { ok: true, response: text ? JSON.parse(text) : null };
  };
}
