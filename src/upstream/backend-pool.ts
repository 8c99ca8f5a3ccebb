import type { Clock, Random } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { ProxyError } from '../core/errors.js';
import type { Picker, PickContext } from '../balance/picker.js';
import { pickerFactory, type BalanceSpec } from '../balance/spec.js';
import { slowStartWeight, DEFAULT_SLOW_START, type SlowStartOptions } from '../balance/slow-start.js';
import { StickyPicker } from '../balance/sticky.js';
import { ActiveChecker, type ActiveCheckOptions } from '../health/active.js';
import { DEFAULT_HEALTH, PoolHealth, type HealthOptions, type HealthTransition } from '../health/outlier.js';
import { Backend, DEFAULT_BACKEND_POOL, type BackendPoolOptions, type BackendSpec } from './backend.js';
import { DEFAULT_RETRY, RetryBudget, type RetryOptions } from './retry-budget.js';

export interface PoolConfig {
  readonly name: string;
  readonly backends: readonly BackendSpec[];
  readonly balance: BalanceSpec;
  readonly health?: Partial<HealthOptions>;
  /** Active checks; none when undefined (passive ejection still applies). */
  readonly check?: ActiveCheckOptions;
  readonly retry?: Partial<RetryOptions>;
  readonly connections?: Partial<BackendPoolOptions>;
  readonly slowStart?: Partial<SlowStartOptions>;
  /** Sticky sessions by an inserted cookie of this name. */
  readonly stickyCookie?: string;
}

export interface PoolDeps { readonly clock: Clock; readonly random: Random; readonly bus: EventBus }

/** One named pool: its backends, picker, health state machine, retry budget and (optional) active checker. */
export class BackendPool {
  readonly name: string;
  readonly backends: Backend[];
  readonly health: PoolHealth;
  readonly budget: RetryBudget;
  readonly retry: RetryOptions;
  readonly sticky: StickyPicker | undefined;
  private readonly picker: Picker;
  private readonly slowStart: SlowStartOptions;
  private readonly checker: ActiveChecker | undefined;
  /** The last refresh: the health version it saw, when, and until when its views hold without a change. */
  private seen = { version: -1, at: Infinity, until: -Infinity };
  private down = false;

  constructor(readonly config: PoolConfig, private readonly deps: PoolDeps) {
    if (config.backends.length === 0) throw new Error(`pool ${config.name}: no backends`);
    this.name = config.name;
    const conn = { ...DEFAULT_BACKEND_POOL, ...config.connections };
    this.backends = config.backends.map((spec) => new Backend(spec, conn));
    this.health = new PoolHealth(this.backends.map((b) => b.id), { ...DEFAULT_HEALTH, ...config.health });
    this.retry = { ...DEFAULT_RETRY, ...config.retry };
    this.budget = new RetryBudget(this.retry);
    this.slowStart = { ...DEFAULT_SLOW_START, ...config.slowStart };
    this.picker = pickerFactory(config.balance)(this.backends);
    this.sticky = config.stickyCookie === undefined ? undefined : new StickyPicker(this.picker, config.name);
    this.checker = config.check === undefined ? undefined : new ActiveChecker(this.backends, config.check,
      { pool: this.name, health: this.health, clock: deps.clock, random: deps.random, bus: deps.bus });
  }

  start(): void { this.checker?.start(); }

  /**
   * Brings every view up to date (availability incl. panic, slow-start weight) before a pick. What it derived holds
   * until the health changes, the next ejection ends or a slow-start ramp moves, so most picks skip the work (it ran
   * per request: a health tick, the panic count and two lookups per backend).
   */
  refresh(now: number): void {
    const health = this.health;
    if (health.version === this.seen.version && now >= this.seen.at && now < this.seen.until) return;
    this.emit(health.tick(now));
    const panic = health.panic(now);
    let ramping = false;
    for (const b of this.backends) {
      b.available = health.available(b.id, now, panic);
      const since = health.availableSince(b.id);
      b.weight = slowStartWeight(b.configuredWeight, since, now, this.slowStart);
      if (since !== undefined && this.slowStart.windowMs > 0 && now - since < this.slowStart.windowMs) ramping = true;
    }
    this.seen = { version: health.version, at: now, until: ramping ? -Infinity : health.nextEjectionEnd() };
    this.down = health.allDown(now);
  }

  /** Every backend failed its active checks, as of the last refresh() (PoolHealth.allDown at that time). */
  allDown(): boolean {
    return this.down;
  }

  pick(ctx: PickContext, stickyToken: string | undefined): { backend: Backend | undefined; setToken?: string } {
    if (this.sticky === undefined) return { backend: this.picker.pick(this.backends, ctx) as Backend | undefined };
    const r = this.sticky.pick(this.backends, stickyToken, ctx);
    return { backend: r.backend as Backend | undefined, ...(r.setToken === undefined ? {} : { setToken: r.setToken }) };
  }

  /** A real request's outcome; may eject the backend. */
  passive(b: Backend, failed: boolean, now: number, detail: string): void {
    this.emit(this.health.passiveResult(b.id, failed, now, detail));
  }

  /** The 503 when nothing can take the request, naming each backend's state and reason. */
  noneHealthy(now: number): ProxyError {
    const states = this.backends.map((b) => `${b.id} ${this.health.state(b.id, now) ?? '?'} (${this.health.reason(b.id) ?? ''})`);
    return new ProxyError('NO_HEALTHY_BACKEND', `no healthy backend in pool ${this.name}: ${states.join(', ')}`);
  }

  /** Pool state for the admin endpoint's /upstreams and `route test`. */
  snapshot(now: number): { name: string; panic: boolean; backends: Array<Record<string, unknown>> } {
    return {
      name: this.name, panic: this.health.panic(now),
      backends: this.backends.map((b) => ({
        id: b.id, state: this.health.state(b.id, now), reason: this.health.reason(b.id), active: b.active,
        ejections: this.health.ejections(b.id, now),
        weight: b.configuredWeight, ewmaMs: Math.round(b.ewmaMs * 10) / 10,
      })),
    };
  }

  async close(): Promise<void> {
    await this.checker?.close();
    await Promise.all(this.backends.map((b) => b.close()));
  }

  private emit(ts: readonly HealthTransition[]): void {
    if (ts.length === 0) return; // nearly every passive result and refresh
    for (const t of ts) this.deps.bus.emit({ type: 'backend.health', pool: this.name, backend: t.backend, state: t.state, reason: t.reason });
  }
}
