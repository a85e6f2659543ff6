/**
 * Okta's rate limits as its responses state them (DESIGN.md §8): `X-Rate-Limit-Limit` requests per
 * window, `-Remaining` in it, `-Reset` the UTC epoch second the window ends. Buckets are per
 * endpoint family, shared by every client of the org, so a client keeps to a share of each bucket
 * (Okta's own default for one token or app is 50%) and leaves the rest to the org.
 */

export interface RateLimitState {
  limit: number;
  remaining: number;
  /** When the window resets, on this machine's clock (Okta's Reset minus its Date, plus now). */
  resetAtMs: number;
}

/**
 * The state a response announces, or undefined without rate-limit headers. `Reset − Date` is what
 * Okta's SDKs wait: it does not depend on this machine's clock being right.
 */
export function rateLimitOf(headers: Headers, nowMs: number): RateLimitState | undefined {
  const limit = Number(headers.get('x-rate-limit-limit'));
  const remaining = Number(headers.get('x-rate-limit-remaining'));
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (!headers.has('x-rate-limit-reset') || !Number.isFinite(reset)) return undefined;
  const date = Date.parse(headers.get('date') ?? '');
  const resetAtMs = Number.isFinite(date) ? nowMs + (reset * 1000 - date) : reset * 1000;
  return {
    limit: Number.isFinite(limit) && limit > 0 ? limit : 0,
    remaining: Number.isFinite(remaining) ? remaining : 0,
    resetAtMs,
  };
}

/** Requests of a `limit` bucket this client may use per window: at least one. */
export function allowedPerWindow(limit: number, share: number): number {
  return Math.max(1, Math.floor(limit * share));
}

/**
 * How long to wait before the next request to a bucket, so that this client leaves
 * `1 − share` of it to the rest of the org: 0 while more than that remains, else until the reset.
 */
export function waitBeforeNext(
  state: RateLimitState | undefined,
  share: number,
  nowMs: number,
): number {
  if (!state || state.limit === 0 || nowMs >= state.resetAtMs) return 0;
  const reserve = state.limit - allowedPerWindow(state.limit, share);
  return state.remaining > reserve ? 0 : state.resetAtMs - nowMs;
}
