/** What a breaker transition means for the log: one line when an outage starts, one when it ends. */
export type BreakerEvent = 'opened' | 'closed' | undefined;

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** While open, one operation per interval is let through as a probe. */
  readonly probeIntervalMs: number;
}

/**
 * A circuit breaker over a remote store (Caddy's CircuitBreaker shape: ask, then record). Closed: every operation
 * runs. Open: operations are refused at once (the cache answers BYPASS) except one probe per interval; a success
 * closes it. Time is passed in, so the state machine is pure and tested without timers.
 */
export class Breaker {
  private failures = 0;
  private openSince: number | undefined;
  private lastProbe = 0;

  constructor(private readonly opts: BreakerOptions) {}

  get open(): boolean {
    return this.openSince !== undefined;
  }

  /** May an operation run now? While open, true once per probe interval. */
  allow(now: number): boolean {
    if (this.openSince === undefined) return true;
    if (now - this.lastProbe < this.opts.probeIntervalMs) return false;
    this.lastProbe = now;
    return true;
  }

  success(): BreakerEvent {
    this.failures = 0;
    if (this.openSince === undefined) return undefined;
    this.openSince = undefined;
    return 'closed';
  }

  failure(now: number): BreakerEvent {
    this.failures++;
    if (this.openSince !== undefined || this.failures < this.opts.failureThreshold) return undefined;
    this.openSince = now;
    this.lastProbe = now;
    return 'opened';
  }
}
