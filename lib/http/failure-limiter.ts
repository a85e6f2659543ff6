/**
 * Throttles credential guessing: failed sign-ins (POST /ui/session) and wrong bearer tokens, per
 * source address. Each source has a bucket of FAILURE_BURST failures that refills at
 * FAILURES_PER_MINUTE; with the bucket empty, its attempts are answered 429 with Retry-After
 * before the token is even compared, right or wrong.
 *
 * The buckets live in the function's container. Lambda runs many containers and starts new ones
 * at will, so a determined guesser spread over N containers gets N times the rate, and a cold
 * start forgets the counts: this slows a guesser by orders of magnitude, it does not cap them.
 * API Gateway's stage throttling (throttleRateLimit) is the stage-wide backstop, and a 32+
 * character token (required on deployed stages) is what makes guessing hopeless.
 */
import { RateLimitedError } from '../errors';

export const FAILURE_BURST = 10;
export const FAILURES_PER_MINUTE = 10;
/** Sources remembered at most (oldest forgotten first): bounded memory whatever the traffic. */
const MAX_SOURCES = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  private bucket(source: string): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(source) ?? { tokens: FAILURE_BURST, atMs: now };
    const refilled = ((now - bucket.atMs) / 60_000) * FAILURES_PER_MINUTE;
    bucket.tokens = Math.min(FAILURE_BURST, bucket.tokens + Math.max(0, refilled));
    bucket.atMs = now;
    return bucket;
  }

  /** Throws a RateLimitedError (429) while `source` has no failure left to spend. */
  assertAllowed(source: string | undefined, what: string): void {
    const bucket = this.buckets.has(source ?? '') ? this.bucket(source ?? '') : undefined;
    if (!bucket || bucket.tokens >= 1) return;
    const seconds = Math.ceil(((1 - bucket.tokens) * 60) / FAILURES_PER_MINUTE);
    throw new RateLimitedError(
      `Too many failed ${what} from this address: try again in ${seconds} s.`,
      seconds,
    );
  }

  recordFailure(source: string | undefined): void {
    const key = source ?? '';
    const bucket = this.bucket(key);
    bucket.tokens -= 1;
    this.buckets.delete(key); // re-inserted last: the Map's order is least recently failed first
    this.buckets.set(key, bucket);
    if (this.buckets.size > MAX_SOURCES) {
      this.buckets.delete(this.buckets.keys().next().value!);
    }
  }

  /**
   * Runs `attempt` unless `source` is throttled; a 401 it throws or rejects with (a wrong
   * credential) is counted as a failure of `source`.
   */
  guard<T>(source: string | undefined, what: string, attempt: () => T): T {
    this.assertAllowed(source, what);
    const counted = (error: unknown): never => {
      if ((error as { statusCode?: number }).statusCode === 401) this.recordFailure(source);
      throw error;
    };
    try {
      const result = attempt();
      // An access token is checked asynchronously: count its refusal when it comes.
      return (result instanceof Promise ? result.catch(counted) : result) as T;
    } catch (error) {
      return counted(error);
    }
  }
}
