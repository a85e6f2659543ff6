/**
 * Runs reactions on stored events, each (reaction, event) at most once to success:
 *
 * 1. claim the outcome item (outcomes.ts): skipped when it already succeeded, or when another
 *    run holds it (`busy`: reported failed, so the stream brings it back after that run ends);
 * 2. try `handle` (or `handleBatch`, with the other events of the batch) up to `tries` times,
 *    pausing retryBaseMs, doubled per attempt (counted across invocations, capped at 10 s);
 * 3. record `succeeded` or `failed` with the attempts and the last error, under the claim.
 *
 * A failed run makes its stream record fail (the stream retries it, then hands it to the
 * on-failure queue; `redrive-reactions` runs it again later). Other events and other reactions
 * go on regardless: nothing here stops at the first failure.
 */
import type { Config } from '../config';
import { ConfigError } from '../errors';
import { type Item, eventJson } from '../store/event-items';
import type { LogFormat } from '../logger';
import { type OutcomeStore, shortError } from './outcomes';
import {
  type Reaction,
  type ReactionContext,
  type ReactionEvent,
  eventTypesOf,
  matchesEventType,
} from './reaction';
import { logReactionRun, reactionLogger, reactionMetrics } from './reaction-log';

/** One event and the reactions to run on it. */
export interface ReactionJob {
  uuid: string;
  /** The event's JSON text exactly as stored. */
  json: string;
  event: ReactionEvent;
  eventType: string;
  /** The event's TTL (epoch seconds), given to its outcomes. */
  expiresAt: number | undefined;
  receivedAt: string | undefined;
  reactions: Reaction[];
  /** A reaction whose eventTypes or `when` threw: a failed run, with this error. */
  matchErrors: Map<string, unknown>;
}

export type RunStatus = 'succeeded' | 'failed' | 'already succeeded' | 'busy' | 'claim lost';

export interface RunResult {
  reaction: string;
  uuid: string;
  status: RunStatus;
  attempts: number;
  error?: string;
}

/** Did the run leave work for a retry? (`claim lost`: the run that took over records it.) */
export function needsRetry(result: RunResult): boolean {
  return result.status === 'failed' || result.status === 'busy';
}

/** The event of an event item, with the reactions (of `reactions`) it matches. */
export function jobForEventItem(
  item: Item,
  reactions: readonly Reaction[],
  config: Config,
  only?: string,
): ReactionJob {
  const json = eventJson(item);
  const event = JSON.parse(json) as ReactionEvent;
  const job: ReactionJob = {
    uuid: item.uuid?.S ?? event.uuid,
    json,
    event,
    eventType: item.eventType?.S ?? String(event.eventType),
    expiresAt: item.expiresAt?.N === undefined ? undefined : Number(item.expiresAt.N),
    receivedAt: item.receivedAt?.S,
    reactions: [],
    matchErrors: new Map(),
  };
  for (const reaction of reactions) {
    if (only !== undefined) {
      // A redrive names its reaction: it matched when the event arrived.
      if (reaction.name === only) job.reactions.push(reaction);
      continue;
    }
    try {
      if (!matchesEventType(eventTypesOf(reaction, config), job.eventType)) continue;
      if (reaction.when && !reaction.when(event, config)) continue;
    } catch (error) {
      job.matchErrors.set(reaction.name, error);
    }
    job.reactions.push(reaction);
  }
  return job;
}

export interface RunnerOptions {
  outcomes: OutcomeStore;
  config: Config;
  /** How long a claim holds: the invocation's remaining time (a run cannot outlive it). */
  leaseMs: number;
  /** No lines (the CLI and benchmarks print their own). */
  quiet?: boolean;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Longest pause between two tries. */
export const MAX_RETRY_PAUSE_MS = 10_000;

export function retryPauseMs(attempt: number, baseMs: number, random = Math.random): number {
  if (attempt <= 1) return 0;
  const pause = Math.min(baseMs * 2 ** (attempt - 2), MAX_RETRY_PAUSE_MS);
  return Math.round(pause * (0.5 + random() / 2)); // jittered: retries of many events spread out
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** An error a retry within seconds cannot fix: the stream's retries (or a redrive) may. */
function isPermanent(error: unknown): boolean {
  return error instanceof ConfigError;
}

export class ReactionRunner {
  private readonly runs = new Map<string, Promise<RunResult>>();
  private readonly counts = new Map<string, { succeeded: number; failed: number }>();
  private readonly format: LogFormat;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: RunnerOptions) {
    this.format = options.config.logFormat;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
  }

  /** Runs the job's reactions that do not batch. Each pair runs once per runner (shared result). */
  async runEach(job: ReactionJob, signal: AbortSignal): Promise<RunResult[]> {
    const own = job.reactions.filter((r) => !r.handleBatch || job.matchErrors.has(r.name));
    return Promise.all(
      own.map((reaction) => this.once(reaction, job, () => this.runOne(reaction, job, signal))),
    );
  }

  /**
   * Runs the batching reactions (handleBatch) over all jobs at once, so that e.g. EventBridge
   * gets up to 10 events per request; the results by job.
   */
  async runBatching(
    jobs: readonly ReactionJob[],
    signal: AbortSignal,
  ): Promise<Map<ReactionJob, RunResult[]>> {
    const results = new Map<ReactionJob, RunResult[]>(jobs.map((job) => [job, []]));
    const batching = new Set(
      jobs.flatMap((job) =>
        job.reactions.filter((r) => r.handleBatch && !job.matchErrors.has(r.name)),
      ),
    );
    await Promise.all(
      [...batching].map(async (reaction) => {
        const mine = jobs.filter(
          (job) => job.reactions.includes(reaction) && !job.matchErrors.has(reaction.name),
        );
        // One run per event, also when two records bring the same event.
        const fresh = [
          ...new Map(
            mine
              .filter((job) => !this.runs.has(this.key(reaction, job)))
              .map((job) => [job.uuid, job]),
          ).values(),
        ];
        const batch = this.runBatch(reaction, fresh, signal);
        for (const job of fresh) {
          const run = batch.then((byUuid) => byUuid.get(job.uuid)!);
          run.catch(() => undefined); // awaited below; marked handled so a rejection is not fatal
          this.runs.set(this.key(reaction, job), run);
        }
        for (const job of mine) {
          results.get(job)!.push(await this.runs.get(this.key(reaction, job))!);
        }
      }),
    );
    return results;
  }

  /** EMF metric lines for the runs so far (the handler prints them once per invocation). */
  metrics(): ReturnType<typeof reactionMetrics> {
    return reactionMetrics(this.options.config.stage, this.counts);
  }

  private key(reaction: Reaction, job: ReactionJob): string {
    return `${reaction.name}|${job.uuid}`;
  }

  private once(reaction: Reaction, job: ReactionJob, run: () => Promise<RunResult>) {
    const key = this.key(reaction, job);
    let pending = this.runs.get(key);
    if (!pending) {
      pending = run();
      this.runs.set(key, pending);
    }
    return pending;
  }

  private context(
    reaction: Reaction,
    job: ReactionJob,
    attempt: number,
    signal: AbortSignal,
  ): ReactionContext {
    return {
      json: job.json,
      uuid: job.uuid,
      attempt,
      signal,
      config: this.options.config,
      log: reactionLogger(reaction.name, job.uuid, this.format),
    };
  }

  private async claim(reaction: Reaction, job: ReactionJob, signal: AbortSignal) {
    return this.options.outcomes.claim(
      {
        reaction: reaction.name,
        uuid: job.uuid,
        eventType: job.eventType,
        expiresAt: job.expiresAt,
        leaseMs: this.options.leaseMs,
      },
      signal,
    );
  }

  private async runOne(reaction: Reaction, job: ReactionJob, signal: AbortSignal) {
    const started = performance.now();
    const claim = await this.claim(reaction, job, signal);
    if (!claim.claimed) return this.notClaimed(reaction, job, claim, started);
    let tries = 0;
    let lastError: unknown = job.matchErrors.get(reaction.name);
    if (lastError === undefined) {
      for (let i = 1; i <= this.options.config.reactions.tries; i++) {
        const attempt = claim.previousAttempts + i;
        try {
          await this.pauseBefore(attempt, signal);
          tries++;
          await reaction.handle(job.event, this.context(reaction, job, attempt, signal));
          lastError = undefined;
          break;
        } catch (error) {
          lastError = signal.aborted ? interrupted(error) : error;
          if (signal.aborted || isPermanent(error)) break;
        }
      }
    } else {
      tries = 1; // the match itself was the try
    }
    return this.finish(reaction, job, claim, Math.max(tries, 1), lastError, started);
  }

  private async runBatch(
    reaction: Reaction,
    jobs: ReactionJob[],
    signal: AbortSignal,
  ): Promise<Map<string, RunResult>> {
    const started = performance.now();
    const results = new Map<string, RunResult>();
    interface Claimed {
      job: ReactionJob;
      claim: { token: string; previousAttempts: number };
      tries: number;
      error: unknown;
    }
    const claimed: Claimed[] = [];
    await Promise.all(
      jobs.map(async (job) => {
        const claim = await this.claim(reaction, job, signal);
        if (!claim.claimed) results.set(job.uuid, this.notClaimed(reaction, job, claim, started));
        // Failed until a try says otherwise: time may run out before it is tried at all.
        else claimed.push({ job, claim, tries: 0, error: new Error('not tried: out of time') });
      }),
    );
    const size = Math.max(1, reaction.batchSize ?? 10);
    let pending = claimed;
    for (let round = 1; round <= this.options.config.reactions.tries; round++) {
      if (pending.length === 0 || signal.aborted) break;
      try {
        await this.pauseBefore(
          Math.min(...pending.map((p) => p.claim.previousAttempts + round)),
          signal,
        );
      } catch (error) {
        for (const p of pending) p.error = interrupted(error);
        break;
      }
      for (let i = 0; i < pending.length && !signal.aborted; i += size) {
        const chunk = pending.slice(i, i + size);
        for (const p of chunk) p.tries++;
        const items = chunk.map((p) => ({
          event: p.job.event,
          context: this.context(reaction, p.job, p.claim.previousAttempts + p.tries, signal),
        }));
        let answers: Array<Error | undefined>;
        try {
          answers = await reaction.handleBatch!(items, { signal, config: this.options.config });
        } catch (error) {
          answers = chunk.map(() => (signal.aborted ? interrupted(error) : (error as Error)));
        }
        chunk.forEach((p, index) => {
          p.error =
            index < answers.length
              ? answers[index]
              : new Error('handleBatch gave no answer for this event');
        });
      }
      pending = pending.filter((p) => p.error !== undefined && !isPermanent(p.error));
    }
    await Promise.all(
      claimed.map(async (p) => {
        const result = await this.finish(
          reaction,
          p.job,
          p.claim,
          Math.max(p.tries, 1),
          p.error,
          started,
        );
        results.set(p.job.uuid, result);
      }),
    );
    return results;
  }

  private async pauseBefore(attempt: number, signal: AbortSignal): Promise<void> {
    const ms = retryPauseMs(attempt, this.options.config.reactions.retryBaseMs, this.random);
    if (ms > 0) await this.sleep(ms, signal);
  }

  private notClaimed(
    reaction: Reaction,
    job: ReactionJob,
    claim: { status: string; attempts: number },
    started: number,
  ): RunResult {
    const status: RunStatus = claim.status === 'succeeded' ? 'already succeeded' : 'busy';
    if (status === 'busy') {
      this.log(reaction, job, { status, attempts: claim.attempts, started, level: 'warn' });
    }
    return { reaction: reaction.name, uuid: job.uuid, status, attempts: claim.attempts };
  }

  private async finish(
    reaction: Reaction,
    job: ReactionJob,
    claim: { token: string; previousAttempts: number },
    tries: number,
    error: unknown,
    started: number,
  ): Promise<RunResult> {
    const attempts = claim.previousAttempts + tries;
    const status = error === undefined ? 'succeeded' : 'failed';
    const recorded = await this.options.outcomes.finish(
      { reaction: reaction.name, uuid: job.uuid },
      claim.token,
      { status, attempts, error },
    );
    const result: RunResult = {
      reaction: reaction.name,
      uuid: job.uuid,
      status: recorded ? status : 'claim lost',
      attempts,
      ...(error === undefined ? {} : { error: shortError(error) }),
    };
    const count = this.counts.get(reaction.name) ?? { succeeded: 0, failed: 0 };
    if (status === 'succeeded') count.succeeded++;
    else count.failed++;
    this.counts.set(reaction.name, count);
    this.log(reaction, job, {
      status: result.status,
      attempts,
      started,
      error: result.error,
      level: status === 'succeeded' ? 'info' : 'error',
    });
    return result;
  }

  private log(
    reaction: Reaction,
    job: ReactionJob,
    entry: {
      status: string;
      attempts: number;
      started: number;
      error?: string;
      level: 'info' | 'warn' | 'error';
    },
  ): void {
    if (this.options.quiet) return;
    const received = job.receivedAt === undefined ? NaN : Date.parse(job.receivedAt);
    logReactionRun(
      {
        level: entry.level,
        reaction: reaction.name,
        uuid: job.uuid,
        eventType: job.eventType,
        status: entry.status,
        attempts: entry.attempts,
        ms: Math.round(performance.now() - entry.started),
        ...(Number.isFinite(received) ? { lagMs: Math.max(0, Date.now() - received) } : {}),
        ...(entry.error ? { error: entry.error } : {}),
      },
      this.format,
    );
  }
}

function interrupted(error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`interrupted: ${reason}`);
}
