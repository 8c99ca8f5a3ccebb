import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock.js';
import type { LimitDecision, RateLimiter } from './rate-limit.js';
import { take, type BucketOptions, type BucketState } from './token-bucket.js';

export interface LocalLimiterOptions extends BucketOptions {
  /** Buckets kept in memory (least recently used dropped beyond it: such a key starts again with a full bucket). */
  readonly maxKeys: number;
}

/** Token buckets in this process, one per key, on the injected clock. */
export function createLocalLimiter(opts: LocalLimiterOptions, clock: Clock): RateLimiter {
  const buckets = new LRUCache<string, BucketState>({ max: opts.maxKeys });
  const options: BucketOptions = { ratePerSecond: opts.ratePerSecond, burst: opts.burst };
  return {
    options,
    take(key): LimitDecision {
      const r = take(buckets.get(key), clock.monotonic(), options);
      buckets.set(key, r.state);
      return { allowed: r.allowed, remaining: r.remaining, retryAfterMs: r.retryAfterMs, resetMs: r.resetMs, source: 'local' };
    },
    close: async () => { buckets.clear(); },
  };
}
