/** One bucket's state: tokens left at `atMs` (refilled lazily on the next take). */
export interface BucketState {
  readonly tokens: number;
  readonly atMs: number;
}

export interface BucketOptions {
  /** Tokens added per second (the sustained request rate). */
  readonly ratePerSecond: number;
  /** Capacity: the burst allowed after an idle period. */
  readonly burst: number;
}

export interface TakeResult {
  readonly state: BucketState;
  readonly allowed: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** When refused: time until one token is back (what Retry-After says); 0 when allowed. */
  readonly retryAfterMs: number;
  /** Time until the bucket is full again (the RateLimit `t` parameter). */
  readonly resetMs: number;
}

/** The tokens in a bucket at `nowMs`; a clock that went backwards refills nothing. */
export function refill(state: BucketState | undefined, nowMs: number, opts: BucketOptions): number {
  if (state === undefined) return opts.burst;
  const elapsed = Math.max(0, nowMs - state.atMs);
  return Math.min(opts.burst, state.tokens + (elapsed * opts.ratePerSecond) / 1000);
}

/**
 * Pure token bucket: refill at `ratePerSecond` up to `burst`, then take `cost` tokens if there are that many. The same
 * arithmetic runs in Redis (rate-limit-redis.ts) when the bucket is shared between instances.
 */
export function take(state: BucketState | undefined, nowMs: number, opts: BucketOptions, cost = 1): TakeResult {
  const tokens = refill(state, nowMs, opts);
  const allowed = tokens >= cost;
  const left = allowed ? tokens - cost : tokens;
  return { state: { tokens: left, atMs: nowMs }, allowed, ...timings(left, allowed, opts, cost) };
}

/** Remaining, Retry-After and reset for `left` tokens after a decision (shared with the Redis limiter). */
export function timings(left: number, allowed: boolean, opts: BucketOptions, cost = 1): Omit<TakeResult, 'state' | 'allowed'> {
  const msPerToken = 1000 / opts.ratePerSecond;
  return {
    remaining: Math.max(0, Math.floor(left)),
    retryAfterMs: allowed ? 0 : Math.ceil((cost - left) * msPerToken),
    resetMs: Math.ceil((opts.burst - left) * msPerToken),
  };
}

/** A bucket that has refilled completely carries no information and may be forgotten. */
export function isFull(state: BucketState, nowMs: number, opts: BucketOptions): boolean {
  return refill(state, nowMs, opts) >= opts.burst;
}
