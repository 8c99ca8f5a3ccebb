import type { Clock, Random } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { PoolHealth, HealthTransition } from './outlier.js';
import { networkProbe, type Probe, type ProbeSpec, type ProbeTarget } from './probe.js';

export interface ActiveCheckOptions extends ProbeSpec {
  /** Time between two checks of one backend (HAProxy `inter`, 2 s). */
  readonly intervalMs: number;
  /** A check without an answer within this fails (HAProxy `timeout check`). */
  readonly timeoutMs: number;
  /** Each interval varies by ± this share so checks of many backends spread out (HAProxy `spread-checks`). */
  readonly jitter: number;
}

export const DEFAULT_ACTIVE_CHECK: ActiveCheckOptions = {
  kind: 'http', path: '/', expectStatus: [200, 399], intervalMs: 2_000, timeoutMs: 1_000, jitter: 0.1,
};

export interface ActiveCheckDeps {
  readonly pool: string;
  readonly health: PoolHealth;
  readonly clock: Clock;
  readonly random: Random;
  readonly bus: EventBus;
  readonly probe?: Probe;
}

/**
 * Probes every backend of a pool on its own timer (first check at a random offset within one interval, then every
 * interval ± jitter), feeds the results to the pool's state machine and emits each transition as `backend.health`.
 */
export class ActiveChecker {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly targets: readonly ProbeTarget[], private readonly opts: ActiveCheckOptions,
    private readonly deps: ActiveCheckDeps) {}

  start(): void {
    for (const t of this.targets) this.schedule(t, this.deps.random() * this.opts.intervalMs);
  }

  /** Runs one check of one backend now (tests and `route test` use it directly). */
  async checkOnce(target: ProbeTarget): Promise<void> {
    const ac = new AbortController();
    this.inflight.add(ac);
    const timer = setTimeout(() => ac.abort(), this.opts.timeoutMs);
    try {
      const result = await (this.deps.probe ?? networkProbe)(target, this.opts, ac.signal);
      if (this.closed) return;
      const now = this.deps.clock.monotonic();
      this.emit(this.deps.health.activeResult(target.id, result.ok, now, result.detail));
      this.emit(this.deps.health.tick(now));
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const ac of this.inflight) ac.abort();
  }

  private schedule(target: ProbeTarget, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      void this.checkOnce(target).finally(() => {
        const spread = 1 + this.opts.jitter * (2 * this.deps.random() - 1);
        this.schedule(target, Math.max(1, this.opts.intervalMs * spread));
      });
    }, delayMs);
    timer.unref();
    this.timers.set(target.id, timer);
  }

  private emit(transitions: readonly HealthTransition[]): void {
    for (const t of transitions) {
      this.deps.bus.emit({ type: 'backend.health', pool: this.deps.pool, backend: t.backend, state: t.state, reason: t.reason });
    }
  }
}
