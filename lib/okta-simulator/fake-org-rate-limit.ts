/**
 * The fake org's rate limits (fake-org.ts applies them per bucket: logs, event hooks): Okta's
 * `X-Rate-Limit-*` headers, and 429 E0000047 once a window's requests are used up.
 */
import { HttpRefusal, oktaError } from './okta-errors';

/** `org.rateLimit` is read on every request: FakeOrg lets its owner change it while it runs. */
export function rateLimiter(
  now: () => number,
  org: { rateLimit: { limit: number; windowMs: number } },
) {
  const windows = new Map<string, { start: number; used: number }>();

  function rateLimitHeaders(bucket: string, consume: boolean): Record<string, string> {
    const { limit, windowMs } = org.rateLimit;
    const t = now();
    let window = windows.get(bucket);
    if (!window || t >= window.start + windowMs) {
      window = { start: Math.floor(t / windowMs) * windowMs, used: 0 };
      windows.set(bucket, window);
    }
    if (consume) window.used++;
    return {
      'X-Rate-Limit-Limit': String(limit),
      'X-Rate-Limit-Remaining': String(Math.max(limit - window.used, 0)),
      'X-Rate-Limit-Reset': String(Math.ceil((window.start + windowMs) / 1000)),
    };
  }

  function checkRateLimit(bucket: string): Record<string, string> {
    const window = windows.get(bucket);
    const headers = rateLimitHeaders(bucket, false);
    if (
      window &&
      window.used >= org.rateLimit.limit &&
      now() < window.start + org.rateLimit.windowMs
    ) {
      throw rateLimited(headers);
    }
    return rateLimitHeaders(bucket, true);
  }

  return { checkRateLimit };
}

export function rateLimited(headers: Record<string, string>): HttpRefusal {
  const refusal = oktaError(
    429,
    'E0000047',
    'API call exceeded rate limit due to too many requests.',
  );
  return new HttpRefusal(429, refusal.body, { ...headers, 'X-Rate-Limit-Remaining': '0' });
}
