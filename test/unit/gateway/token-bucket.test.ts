import { describe, expect, it } from 'vitest';
import { createLocalLimiter } from '../../../src/gateway/rate-limit-local.js';
import { isFull, refill, take, type BucketState } from '../../../src/gateway/token-bucket.js';

const opts = { ratePerSecond: 2, burst: 4 };

describe('token bucket (pure)', () => {
  it('starts full, allows a burst, then refuses with the time until the next token', () => {
    let s: BucketState | undefined;
    const results = [];
    for (let i = 0; i < 5; i++) {
      const r = take(s, 1000, opts);
      s = r.state;
      results.push(r);
    }
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([3, 2, 1, 0, 0]);
    expect(results[4]?.retryAfterMs).toBe(500); // one token at 2/s
    expect(results[4]?.resetMs).toBe(2000); // four tokens at 2/s
  });

  it('refills at the rate, capped at the burst', () => {
    const empty: BucketState = { tokens: 0, atMs: 0 };
    expect(refill(empty, 250, opts)).toBe(0.5);
    expect(refill(empty, 1000, opts)).toBe(2);
    expect(refill(empty, 60_000, opts)).toBe(4);
    expect(take(empty, 499, opts).allowed).toBe(false);
    expect(take(empty, 500, opts).allowed).toBe(true);
    expect(isFull(empty, 1999, opts)).toBe(false);
    expect(isFull(empty, 2000, opts)).toBe(true);
  });

  it('a clock going backwards refills nothing and never yields more than the burst', () => {
    const s: BucketState = { tokens: 1, atMs: 10_000 };
    expect(refill(s, 5_000, opts)).toBe(1);
    expect(take(s, 5_000, opts).state).toEqual({ tokens: 0, atMs: 5_000 });
  });

  it('a refused take keeps its tokens (a client hammering an empty bucket still gets tokens back)', () => {
    const s: BucketState = { tokens: 0.9, atMs: 0 };
    const r = take(s, 0, opts);
    expect(r.allowed).toBe(false);
    expect(r.state.tokens).toBeCloseTo(0.9);
    expect(r.retryAfterMs).toBe(50);
  });
});

describe('local limiter', () => {
  it('keeps one bucket per key on the injected clock', () => {
    let t = 0;
    const lim = createLocalLimiter({ ratePerSecond: 1, burst: 2, maxKeys: 10 }, { now: () => t, monotonic: () => t });
    const a = () => lim.take('a') as { allowed: boolean };
    expect([a().allowed, a().allowed, a().allowed]).toEqual([true, true, false]);
    expect((lim.take('b') as { allowed: boolean }).allowed).toBe(true);
    t = 1000;
    expect([a().allowed, a().allowed]).toEqual([true, false]);
  });

  it('is bounded: beyond maxKeys the least recently used bucket is forgotten', () => {
    const lim = createLocalLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 2 }, { now: () => 0, monotonic: () => 0 });
    const ok = (k: string): boolean => (lim.take(k) as { allowed: boolean }).allowed;
    expect([ok('a'), ok('a')]).toEqual([true, false]);
    ok('b');
    ok('c'); // evicts a
    expect(ok('a')).toBe(true);
  });
});
