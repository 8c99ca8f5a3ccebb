import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock, Random } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { Flow } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import type { PickContext } from '../balance/picker.js';
import type { StageContext, Upstream, UpstreamResponse } from '../core/stage.js';
import type { Backend } from './backend.js';
import type { BackendPool } from './backend-pool.js';
import { exchange, upstreamHeaders, type ExchangeOptions } from './dispatch.js';
import { mapUpstreamError } from './errors.js';
import { cookieValue, hashKeyOf } from './hash-key.js';
import { QueueTimeoutError } from './queue-timeout.js';
import { ReplayableBody } from './replay-body.js';
import { backoffMs, shouldRetry, type AttemptOutcome } from './retry-budget.js';

/** Failures that say something about the backend (fed to passive ejection); a client abort says nothing. */
const BACKEND_FAULT = new Set(['CONNECT_REFUSED', 'CONNECT_TIMEOUT', 'CONNECT_RESET', 'UPSTREAM_RESET', 'HEADERS_TIMEOUT', 'DNS_FAILED']);

const NOT_REACHED = new Set(['CONNECT_REFUSED', 'CONNECT_TIMEOUT']);
/** The backend could not be reached at all (a full pool queue is busy, not down). */
const unreachable = (err: ProxyError): boolean => NOT_REACHED.has(err.code) && !(err instanceof QueueTimeoutError);

export interface BalancedDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly pools: ReadonlyMap<string, BackendPool>;
  /** The pool when no route named one (`flow.notes.pool`). */
  readonly defaultPool: string;
}

/**
 * The reverse proxy's terminal sender: pick a backend of the flow's pool → exchange over its keep-alive Pool → on a
 * connect failure, or 502/503/504 to an idempotent body-less request, try a different backend after a short back-off,
 * within the pool's retry budget. Nothing was sent to the client before send() resolves, so a retry never follows a
 * started response. exchange() already resends once on the keep-alive reuse race.
 */
export class BalancedUpstream implements Upstream {
  /** The reason the last pick gave; picks are synchronous, so one sink serves every request (no closure per pick). */
  private reason = '';
  private readonly explain = (r: string): void => { this.reason = r; };

  constructor(private readonly deps: BalancedDeps) {}

  send(flow: Flow, _ctx: StageContext): Promise<UpstreamResponse> {
    const pool = this.deps.pools.get(flow.notes.pool ?? this.deps.defaultPool);
    if (pool === undefined) return Promise.reject(new ProxyError('INTERNAL', `unknown pool ${flow.notes.pool ?? this.deps.defaultPool}`));
    flow.notes.pool = pool.name;
    pool.budget.requestStarted();
    return this.attempts(flow, pool);
  }

  /**
   * The attempts of one request (the pool's active request is released on a failure here, on success by settled()).
   * The first one allocates as little as it can (it is nearly every request): the retry state (tried backends,
   * refusals, notes) is only built for a retry question, a final status skips that question, and the exchange is
   * awaited here rather than through one more async function.
   */
  private async attempts(flow: Flow, pool: BackendPool): Promise<UpstreamResponse> {
    const { clock, random } = this.deps;
    let retry: RetryState | undefined;
    try {
      const hashKey = hashKeyOf(flow, pool.config.balance.hashOn);
      const token = pool.config.stickyCookie === undefined ? undefined : cookieValue(flow.request.headers, pool.config.stickyCookie);
      const hasBody = flow.requestBody !== null;
      const replay = replayableBody(flow, pool.retry.replayBodyBytes);
      for (let attempt = 1; ; attempt++) {
        const started = clock.monotonic();
        const picked = this.pick(pool, started, hashKey, token, retry);
        const b = picked.backend;
        if (b === undefined) throw pool.noneHealthy(started);
        noteAttempt(flow, b, attempt, this.reason, retry);
        // A retry holds a budget slot while it is in flight; the exchange's failure is caught, so the slot is always returned.
        if (attempt > 1) pool.budget.retryStarted();
        if (replay !== undefined) flow.requestBody = replay.attempt();
        // One exchange with b; on success b.active stays counted until settled() or discard() lets it go.
        let outcome: Outcome;
        b.active++;
        try {
          outcome = { ok: true, res: await exchange(flow, this.exchangeOptions(flow, b)) };
        } catch (err) {
          b.active--;
          outcome = { ok: false, err: mapUpstreamError(err) };
        }
        if (attempt > 1) pool.budget.retryEnded();
        observe(pool, b, outcome, started, clock.monotonic());
        // A final status is never retried, whatever the rest of the question (shouldRetry says "status N is final").
        if (outcome.ok && !pool.retry.retryStatuses.includes(outcome.res.head.status)) {
          return settled(withSticky(outcome.res, pool, picked.setToken), b, pool);
        }
        if (!outcome.ok && outcome.err.code === 'CLIENT_ABORTED') throw outcome.err;
        retry ??= new RetryState();
        const decision = retry.ask(flow, pool, b, outcome, attempt, hasBody, replay);
        if (!decision.retry) {
          if (outcome.ok) return settled(withSticky(outcome.res, pool, picked.setToken), b, pool);
          throw retry.failure(pool, outcome.err);
        }
        retry.note = `${flow.notes.pick ?? ''}; ${b.id} ${decision.why}`;
        if (outcome.ok) discard(outcome.res, b);
        await sleep(backoffMs(attempt + 1, pool.retry, random), undefined, { signal: flow.signal }).catch(() => undefined);
        if (flow.signal.aborted) throw new ProxyError('CLIENT_ABORTED', 'the client went away');
      }
    } catch (err) {
      pool.budget.requestEnded();
      throw err;
    }
  }

  /**
   * One attempt's pick among the backends not tried yet, after bringing the pool's view up to date; this.reason says
   * why. Throws the 503 when every backend is down; `backend` is undefined when none is left to pick.
   */
  private pick(
    pool: BackendPool, now: number, hashKey: string | undefined, token: string | undefined, retry: RetryState | undefined,
  ): ReturnType<BackendPool['pick']> {
    pool.refresh(now);
    if (pool.allDown()) throw pool.noneHealthy(now);
    this.reason = '';
    const { random } = this.deps;
    const exclude = retry?.tried;
    const ctx: PickContext = hashKey === undefined ? { random, exclude, explain: this.explain } : { random, exclude, explain: this.explain, hashKey };
    return pool.pick(ctx, token);
  }

  /**
   * How to exchange with `b`: over its keep-alive pool, which also times a request's wait for a free connection. A
   * body that has fully arrived by the time the exchange resolves comes back as bytes (bufferComplete): one res.end()
   * at the front door, and the slot is free.
   */
  private exchangeOptions(flow: Flow, b: Backend): ExchangeOptions {
    return {
      dispatcher: b.pool, clock: this.deps.clock, mapError: mapUpstreamError,
      headersTimeoutMs: b.options.headersTimeoutMs, bodyTimeoutMs: b.options.bodyTimeoutMs, bufferComplete: true,
      headers: upstreamHeaders(flow.request.headers, flow.request.url.host, flow.requestBody !== null),
    };
  }
}

type Outcome = { ok: true; res: UpstreamResponse } | { ok: false; err: ProxyError };

/** Where the flow went, for its log line and the TUI: the backend, the attempt count and why each backend was picked. */
function noteAttempt(flow: Flow, b: Backend, attempt: number, reason: string, retry: RetryState | undefined): void {
  const notes = flow.notes;
  notes.backend = b.id;
  notes.upstream = b.id;
  notes.attempts = attempt;
  notes.pick = retry === undefined ? reason : `${retry.note}; retry ${attempt}: ${reason}`;
}

/**
 * What one attempt says about its backend: an answer gives a latency sample and a passive result (a 5xx failed);
 * of the failures, only those that are the backend's fault count against it (a client abort says nothing).
 */
function observe(pool: BackendPool, b: Backend, outcome: Outcome, started: number, done: number): void {
  if (outcome.ok) {
    b.latency.observe(done - started, done);
    const status = outcome.res.head.status;
    pool.passive(b, status >= 500, done, status >= 500 ? `HTTP ${status}` : '');
  } else if (BACKEND_FAULT.has(outcome.err.code)) {
    pool.passive(b, true, done, outcome.err.code);
  }
}

/**
 * What a request's retries remember, built at its first retry question (never for a first answer): the backends
 * tried, those that could not be reached at all, and the pick notes so far.
 */
class RetryState {
  readonly tried = new Set<string>();
  private readonly refused: string[] = [];
  /** The flow's pick note as it stood when the request left the last backend, and why it left. */
  note = '';

  /** Whether to try another backend after b's outcome: the pure shouldRetry, asked with this request's facts. */
  ask(
    flow: Flow, pool: BackendPool, b: Backend, outcome: Outcome, attempt: number, hasBody: boolean, replay: ReplayableBody | undefined,
  ): { retry: boolean; why: string } {
    const tried = this.tried.add(b.id);
    if (!outcome.ok && unreachable(outcome.err)) this.refused.push(`${b.id} ${outcome.err.code}`);
    const kind: AttemptOutcome = outcome.ok ? { kind: 'status', status: outcome.res.head.status } : { kind: 'error', code: outcome.err.code };
    return shouldRetry({
      method: flow.request.method, hasBody, bodyReplayable: replay?.replayable() ?? false, attempts: attempt, outcome: kind,
      responseStarted: false, budgetOk: pool.budget.allows(), alternative: pool.backends.some((x) => x.available && !tried.has(x.id)),
    }, pool.retry);
  }

  /** The error a request ends with: every backend of the pool tried and none reachable is "all down", even without checks. */
  failure(pool: BackendPool, err: ProxyError): ProxyError {
    const { refused, tried } = this;
    if (refused.length > 0 && refused.length === tried.size && tried.size === pool.backends.length) {
      return new ProxyError('NO_HEALTHY_BACKEND', `no backend of pool ${pool.name} could be reached: ${refused.join(', ')}`, { cause: err });
    }
    return err;
  }
}

/** A body small enough to keep (by Content-Length, or chunked and found so while read) can be replayed; else none. */
function replayableBody(flow: Flow, limitBytes: number): ReplayableBody | undefined {
  if (flow.requestBody === null || limitBytes <= 0) return undefined;
  const length = Number(getHeader(flow.request.headers, 'content-length'));
  if (Number.isFinite(length) && length > limitBytes) return undefined;
  return new ReplayableBody(flow.requestBody, limitBytes);
}

/**
 * The answer goes to the client: the backend's in-flight count and the pool's active request are released when its
 * body is done, read to the end or abandoned (a Readable always closes then; autoDestroy), or at once without a stream.
 * One 'close' listener instead of stream.finished()'s five and its cleanup closure.
 */
function settled(res: UpstreamResponse, b: Backend, pool: BackendPool): UpstreamResponse {
  const body = res.body;
  if (body instanceof Readable && !body.closed) {
    body.on('close', () => {
      b.active--;
      pool.budget.requestEnded();
    });
  } else {
    b.active--;
    pool.budget.requestEnded();
  }
  return res;
}

/** A response that will be retried elsewhere: its body is dropped and its backend slot freed. */
function discard(res: UpstreamResponse, b: Backend): void {
  if (res.body instanceof Readable) res.body.destroy();
  b.active--;
}

function withSticky(res: UpstreamResponse, pool: BackendPool, token: string | undefined): UpstreamResponse {
  if (token !== undefined && pool.config.stickyCookie !== undefined) {
    res.head.headers.push(['Set-Cookie', `${pool.config.stickyCookie}=${token}; Path=/; HttpOnly; SameSite=Lax`]);
  }
  return res;
}
