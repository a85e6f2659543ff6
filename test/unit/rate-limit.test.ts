import { allowedPerWindow, rateLimitOf, waitBeforeNext } from '../../lib/okta/rate-limit';

describe('rate-limit headers', () => {
  it("counts the reset from Okta's Date, not this machine's clock", () => {
    const headers = new Headers({
      'x-rate-limit-limit': '60',
      'x-rate-limit-remaining': '12',
      'x-rate-limit-reset': '1700000030',
      date: new Date(1_700_000_000_000).toUTCString(),
    });
    // This machine's clock is an hour off: the wait is still Okta's 30 s.
    const local = 1_700_003_600_000;
    expect(rateLimitOf(headers, local)).toEqual({
      limit: 60,
      remaining: 12,
      resetAtMs: local + 30_000,
    });
  });

  it('uses the reset as an epoch second without a Date header, and nothing without headers', () => {
    const headers = new Headers({
      'x-rate-limit-limit': '20',
      'x-rate-limit-remaining': '0',
      'x-rate-limit-reset': '1700000030',
    });
    expect(rateLimitOf(headers, 0)?.resetAtMs).toBe(1_700_000_030_000);
    expect(rateLimitOf(new Headers(), 0)).toBeUndefined();
  });
});

describe('keeping to a share of the bucket', () => {
  const state = (remaining: number) => ({ limit: 60, remaining, resetAtMs: 10_000 });

  it('allows the share of the limit per window, at least one request', () => {
    expect(allowedPerWindow(60, 0.5)).toBe(30);
    expect(allowedPerWindow(20, 0.5)).toBe(10);
    expect(allowedPerWindow(1, 0.5)).toBe(1);
    expect(allowedPerWindow(60, 1)).toBe(60);
  });

  it('goes on while more than the rest of the org’s share remains, then waits for the reset', () => {
    expect(waitBeforeNext(state(31), 0.5, 4000)).toBe(0);
    expect(waitBeforeNext(state(30), 0.5, 4000)).toBe(6000);
    expect(waitBeforeNext(state(0), 0.5, 4000)).toBe(6000);
    expect(waitBeforeNext(state(1), 1, 4000)).toBe(0);
  });

  it('does not wait once the window has reset, or before anything is known', () => {
    expect(waitBeforeNext(state(0), 0.5, 10_000)).toBe(0);
    expect(waitBeforeNext(undefined, 0.5, 0)).toBe(0);
  });
});
