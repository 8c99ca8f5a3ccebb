import type { ProxyErrorCode } from '../core/errors.js';

export interface RetryOptions {
  /** Attempts per request, the first included (Caddy's retries + 1). */
  readonly maxAttempts: number;
  /** Retries in flight may be at most this share of the active requests (Envoy retry_budget.budget_percent, 20%). */
  readonly budgetPercent: number;
  /** ... but this many concurrent retries are always allowed (Envoy min_retry_concurrency, 3). */
  readonly minRetryConcurrency: number;
  /** Back-off before attempt n is base × 2^(n-2) with full jitter, capped (Envoy: 25 ms base, 250 ms max). */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Statuses retried for idempotent, body-less requests. */
  readonly retryStatuses: readonly number[];
  /**
   * Request bodies up to this size are kept while they are sent, so a request with a body can go to another backend
   * when the first could not be reached at all (0: bodies are never replayed).
   */
  readonly replayBodyBytes: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 3, budgetPercent: 20, minRetryConcurrency: 3, backoffBaseMs: 25, backoffMaxMs: 250,
  retryStatuses: [502, 503, 504], replayBodyBytes: 64 * 1024,
};

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** The request never reached the backend: safe to send elsewhere whatever its method. */
const NOT_SENT: ReadonlySet<ProxyErrorCode> = new Set(['CONNECT_REFUSED', 'CONNECT_TIMEOUT', 'DNS_FAILED']);
/** Failed after it may have reached the backend: only idempotent requests go again. */
const MAYBE_SENT: ReadonlySet<ProxyErrorCode> = new Set(['UPSTREAM_RESET', 'HEADERS_TIMEOUT', 'CONNECT_RESET']);

export type AttemptOutcome = { kind: 'status'; status: number } | { kind: 'error'; code: ProxyErrorCode };

export interface RetryQuestion {
  readonly method: string;
  /** The request has a body. */
  readonly hasBody: boolean;
  /** ... and all of it that was read so far is kept (replay-body.ts), so it can be sent again. */
  readonly bodyReplayable?: boolean;
  readonly attempts: number;
  readonly outcome: AttemptOutcome;
  /** Any byte of the response was sent to the client (never retried then). */
  readonly responseStarted: boolean;
  readonly budgetOk: boolean;
  /** Another backend is left to try. */
  readonly alternative: boolean;
}

/** The retry decision as a pure function (Caddy's tryAgain): yes, or no with the reason. */
export function shouldRetry(q: RetryQuestion, opts: RetryOptions): { retry: boolean; why: string } {
  const no = (why: string): { retry: false; why: string } => ({ retry: false, why });
  if (q.responseStarted) return no('the response had started');
  if (q.attempts >= opts.maxAttempts) return no(`${q.attempts} attempts made`);
  const o = q.outcome;
  if (q.hasBody && q.bodyReplayable !== true) return no('the request body cannot be replayed');
  // A kept body is resent only when the request never reached a backend: anything else may have had an effect.
  if (q.hasBody && (o.kind === 'status' || !NOT_SENT.has(o.code))) return no('a request with a body is retried only when no backend was reached');
  const idempotent = IDEMPOTENT.has(q.method.toUpperCase());
  if (o.kind === 'status') {
    if (!opts.retryStatuses.includes(o.status)) return no(`status ${o.status} is final`);
    if (!idempotent) return no(`${q.method} is not idempotent`);
  } else if (!NOT_SENT.has(o.code)) {
    if (!MAYBE_SENT.has(o.code)) return no(`${o.code} is not retryable`);
    if (!idempotent) return no(`${q.method} is not idempotent`);
  }
  if (!q.alternative) return no('no other backend to try');
  if (!q.budgetOk) return no('retry budget exhausted');
  return { retry: true, why: o.kind === 'status' ? `status ${o.status}` : o.code };
}

/** Envoy's retry budget: counts active requests and retries in flight for one pool. */
export class RetryBudget {
  private active = 0;
  private retrying = 0;

  constructor(private readonly opts: RetryOptions) {}

  requestStarted(): void { this.active++; }
  requestEnded(): void { this.active = Math.max(0, this.active - 1); }

  /** Whether one more concurrent retry fits: max(minRetryConcurrency, budgetPercent of active requests). */
  allows(): boolean {
    return this.retrying < Math.max(this.opts.minRetryConcurrency, (this.active * this.opts.budgetPercent) / 100);
  }

  retryStarted(): void { this.retrying++; }
  retryEnded(): void { this.retrying = Math.max(0, this.retrying - 1); }
}

/** Full-jitter exponential back-off before attempt `attempt` (2 = first retry). */
export function backoffMs(attempt: number, opts: RetryOptions, random: () => number): number {
  const cap = Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** Math.max(0, attempt - 2));
  return Math.floor(random() * cap);
}
