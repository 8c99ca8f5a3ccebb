import type { BucketOptions } from './token-bucket.js';

/** What a limiter says about one request. */
export interface LimitDecision {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly resetMs: number;
  /** Where the decision was made: the local bucket, the shared Redis bucket, or no bucket (store down, fail open). */
  readonly source: 'local' | 'redis' | 'fail-open' | 'fail-closed';
}

export interface RateLimiter {
  readonly options: BucketOptions;
  /** Sync for the local limiter (no promise per request on the hot path); a promise for Redis. */
  take(key: string): LimitDecision | Promise<LimitDecision>;
  close(): Promise<void>;
}
