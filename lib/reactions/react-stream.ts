/**
 * The `react` function: the table's stream, filtered (serverless.yml) to event inserts and
 * redrive requests. Each event gets every enabled reaction that matches it (run-reactions.ts);
 * a redrive request gets the one reaction it names. Records whose runs failed are reported
 * (ReportBatchItemFailures) after every record of the batch was worked on.
 */
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { type Config, config as containerConfig } from '../config';
import { ConfigError } from '../errors';
import { type SecretResolver, secretResolver } from '../secrets';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { EVENT_PREFIX, type Item, eventKey } from '../store/event-items';
import { itemFromImage, processStreamBatch } from '../stream/stream-batch';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { OutcomeStore, redriveRequestOf, shortError } from './outcomes';
import type { Reaction } from './reaction';
import { enabledReactions } from './registry';
import {
  type ReactionJob,
  ReactionRunner,
  type RunResult,
  jobForEventItem,
  needsRetry,
} from './run-reactions';

export class ReactionsFailedError extends Error {
  override name = 'ReactionsFailedError';
  constructor(readonly results: RunResult[]) {
    super(
      results.map((r) => `${r.reaction} ${r.status}${r.error ? `: ${r.error}` : ''}`).join('; '),
    );
  }
}

export interface ReactDeps {
  config?: Config;
  secrets?: SecretResolver;
  /** The reactions to run (default: the registry's). */
  reactions?: readonly Reaction[];
  outcomes?: OutcomeStore;
  /** No log lines (benchmarks). */
  quiet?: boolean;
}

function isEventItem(item: Item): boolean {
  return item.sk?.S === 'EVENT' && (item.pk?.S ?? '').startsWith(EVENT_PREFIX);
}

/** A reaction a redrive names that is not enabled here: its run fails, saying so. */
function notEnabled(name: string): Reaction {
  return {
    name,
    eventTypes: [],
    handle: async () => {
      throw new ConfigError(`reaction ${name} is not enabled on this stage`);
    },
  };
}

async function jobOf(
  record: DynamoDBRecord,
  reactions: readonly Reaction[],
  config: Config,
  outcomes: OutcomeStore,
): Promise<ReactionJob | undefined> {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = itemFromImage(image);
  if (isEventItem(item)) return jobForEventItem(item, reactions, config);
  const request = redriveRequestOf(item);
  if (!request) return undefined;
  const { Item: eventItem } = await outcomes.client.send(
    new GetItemCommand({
      TableName: outcomes.tableName,
      Key: eventKey(request.uuid),
      ConsistentRead: true,
    }),
  );
  if (!eventItem) return undefined; // expired since (TTL): nothing to run on
  const named = reactions.find((r) => r.name === request.reaction) ?? notEnabled(request.reaction);
  return jobForEventItem(eventItem, [named], config, request.reaction);
}

export function createReactHandler(deps: ReactDeps = {}) {
  let outcomes = deps.outcomes;
  return async (
    event: DynamoDBStreamEvent,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<DynamoDBBatchResponse> => {
    const base = deps.config ?? containerConfig();
    // The signing secret, from SSM on a deployed stage: read only when forward is on.
    const config = base.reactions.forwardUrl
      ? await (deps.secrets ?? secretResolver()).resolve(base, ['forwardSecret'])
      : base;
    const reactions = enabledReactions(config, deps.reactions);
    const store = (outcomes ??= new OutcomeStore(
      createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS }),
      config.tableName,
    ));
    const runner = new ReactionRunner({
      outcomes: store,
      config,
      // A claim lasts as long as this invocation can: a retry after it died finds it expired.
      leaseMs: context?.getRemainingTimeInMillis?.() ?? 60_000,
      quiet: deps.quiet,
    });
    const jobs = new Map(
      event.Records.map((record) => {
        const job = jobOf(record, reactions, config, store);
        job.catch(() => undefined); // awaited by the record's work, which reports it
        return [record, job] as const;
      }),
    );
    let batching: ReturnType<ReactionRunner['runBatching']> | undefined;

    const response = await processStreamBatch(
      event,
      context,
      async (record, signal) => {
        const job = await jobs.get(record);
        if (!job || job.reactions.length === 0) return;
        // Batching reactions (EventBridge) take the whole batch's events together, once.
        batching ??= (async () => {
          const settled = await Promise.allSettled(jobs.values());
          const ready = settled.flatMap((s) =>
            s.status === 'fulfilled' && s.value ? [s.value] : [],
          );
          return runner.runBatching(ready, signal);
        })();
        batching.catch(() => undefined);
        const [own, batched] = await Promise.all([
          runner.runEach(job, signal),
          batching.then((byJob) => byJob.get(job) ?? []),
        ]);
        const failed = [...own, ...batched].filter(needsRetry);
        if (failed.length > 0) throw new ReactionsFailedError(failed);
      },
      (record, error) => {
        if (error instanceof ReactionsFailedError) return; // each run logged its own line
        const entry = {
          msg: 'react',
          level: 'error',
          key: `${record.dynamodb?.Keys?.pk?.S ?? '?'} ${record.dynamodb?.Keys?.sk?.S ?? '?'}`,
          status: 'failed (will be retried)',
          error: shortError(error),
        };
        console.error(
          config.logFormat === 'json'
            ? JSON.stringify(entry)
            : `${new Date().toISOString().slice(11, 19)} REACT ${entry.key} ${entry.status}: ${entry.error}`,
        );
      },
    );
    if (config.logFormat === 'json' && !deps.quiet) {
      for (const line of runner.metrics()) console.log(JSON.stringify(line));
    }
    return response;
  };
}
