import type { HealthState } from '../core/events.js';

/** Every threshold of the health state machine, with HAProxy's and Envoy's defaults. */
export interface HealthOptions {
  /** Consecutive passing active checks that bring a down backend up (HAProxy `rise`, 2). */
  readonly rise: number;
  /** Consecutive failing active checks that take an up backend down (HAProxy `fall`, 3). */
  readonly fall: number;
  /** Consecutive 5xx / connect failures that eject a backend (Envoy `consecutive_5xx`, 5; 0 = passive ejection off). */
  readonly consecutiveFailures: number;
  /** Ejection time per ejection so far (Envoy `base_ejection_time`, 30 s). */
  readonly baseEjectionMs: number;
  /** Cap of one ejection (Envoy `max_ejection_time`, 300 s). */
  readonly maxEjectionMs: number;
  /**
   * The ejection count decays: each full period a backend spends up and not ejected takes one off, so a backend that
   * misbehaved long ago starts again at the base time (Envoy decrements its multiplier every `interval`, 10 s, the host
   * stays healthy). 0 = never decays.
   */
  readonly ejectionDecayMs: number;
  /** At most this share of a pool is ejected at once, but always at least one host (Envoy, 10%). */
  readonly maxEjectionPercent: number;
  /** Below this share of healthy backends the pool balances over all of them (Envoy panic threshold, 50%; 0 = off). */
  readonly panicThresholdPercent: number;
  /** Whether a backend counts as up before its first active check (HAProxy starts servers up). */
  readonly startUp: boolean;
}

export const DEFAULT_HEALTH: HealthOptions = {
  rise: 2, fall: 3, consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, ejectionDecayMs: 10_000,
  maxEjectionPercent: 10, panicThresholdPercent: 50, startUp: true,
};

export interface HealthTransition {
  readonly backend: string;
  readonly state: HealthState;
  readonly reason: string;
}

interface HostState {
  up: boolean;
  passes: number;
  fails: number;
  consecutive: number;
  ejections: number;
  ejectedUntil: number | undefined;
  /** Since when the ejection count has been decaying (up and not ejected with ejections > 0); undefined = paused. */
  decayFrom: number | undefined;
  /** When the backend last became available (for slow start); undefined = since the start. */
  availableSince: number | undefined;
  /** The reason of its last transition, for error pages and `route test`. */
  reason: string;
}

const NONE: readonly HealthTransition[] = Object.freeze([]);

/**
 * The health of one pool as a pure state machine over an injected time (`now` on every call): HAProxy rise/fall for
 * active checks, Envoy consecutive-failure ejection for passive outcomes, and the panic threshold. Methods return the
 * transitions they caused, with a reason, for the caller to emit as `backend.health` events.
 */
export class PoolHealth {
  private readonly hosts = new Map<string, HostState>();
  private changes = 0;

  constructor(ids: readonly string[], private readonly opts: HealthOptions = DEFAULT_HEALTH) {
    this.sync(ids);
  }

  /**
   * Counts the changes that may alter who is available: every transition (up, down, ejected, ejection over),
   * membership and inherited state. Between two changes only time moves availability, at `nextEjectionEnd()`; so a
   * caller that saw the same version before that time may keep what it derived (backend-pool.ts refresh()).
   */
  get version(): number {
    return this.changes;
  }

  /** When the earliest running ejection ends (Infinity when none is running). */
  nextEjectionEnd(): number {
    let end = Infinity;
    for (const h of this.hosts.values()) if (h.ejectedUntil !== undefined && h.ejectedUntil < end) end = h.ejectedUntil;
    return end;
  }

  /** Applies a new membership; unchanged backends keep their state (hot reload). */
  sync(ids: readonly string[]): void {
    this.changes++;
    const keep = new Set(ids);
    for (const id of [...this.hosts.keys()]) if (!keep.has(id)) this.hosts.delete(id);
    for (const id of ids) {
      if (this.hosts.has(id)) continue;
      this.hosts.set(id, {
        up: this.opts.startUp, passes: 0, fails: 0, consecutive: 0, ejections: 0, ejectedUntil: undefined, decayFrom: undefined,
        availableSince: undefined, reason: this.opts.startUp ? 'not checked yet' : 'waiting for its first checks',
      });
    }
  }

  /** The reason of the backend's last transition. */
  reason(id: string): string | undefined {
    return this.hosts.get(id)?.reason;
  }

  private note(ts: readonly HealthTransition[]): readonly HealthTransition[] {
    if (ts.length > 0) this.changes++;
    for (const t of ts) {
      const h = this.hosts.get(t.backend);
      if (h !== undefined) h.reason = t.reason;
    }
    return ts;
  }

  /**
   * Takes over the state of backends `other` also has (hot reload of a changed pool); the others are new and count
   * as available since `now`, so slow start ramps them up.
   */
  inherit(other: PoolHealth, now: number): void {
    this.changes++;
    for (const [id, h] of this.hosts) {
      const old = other.hosts.get(id);
      if (old !== undefined) this.hosts.set(id, { ...old });
      else h.availableSince = now;
    }
  }

  /** One active check result. A pass also ends an ejection (Envoy: a successful active check un-ejects). */
  activeResult(id: string, ok: boolean, now: number, detail = ''): readonly HealthTransition[] {
    const h = this.hosts.get(id);
    if (h === undefined) return NONE;
    const why = detail === '' ? '' : ` (${detail})`;
    if (!ok) {
      h.passes = 0;
      h.fails++;
      if (!h.up || h.fails < this.opts.fall) return NONE;
      this.decay(h, now);
      h.decayFrom = undefined;
      h.up = false;
      return this.note([{ backend: id, state: 'down', reason: `${h.fails} consecutive failed checks${why}` }]);
    }
    h.fails = 0;
    h.passes++;
    const out: HealthTransition[] = [];
    if (h.ejectedUntil !== undefined) {
      h.ejectedUntil = undefined;
      h.consecutive = 0;
      if (h.up) { h.availableSince = now; h.decayFrom = now; }
      out.push({ backend: id, state: 'up', reason: `ejection ended by a passing active check${why}` });
    }
    if (!h.up && h.passes >= this.opts.rise) {
      h.up = true;
      h.availableSince = now;
      if (h.ejectedUntil === undefined) h.decayFrom = now;
      out.push({ backend: id, state: 'up', reason: `${h.passes} consecutive passing checks${why}` });
    }
    return this.note(out);
  }

  /** One passive outcome of a real request: a 5xx or connect failure, or a success. */
  passiveResult(id: string, failed: boolean, now: number, detail = ''): readonly HealthTransition[] {
    const h = this.hosts.get(id);
    if (h === undefined) return NONE;
    if (!failed) { h.consecutive = 0; return NONE; }
    h.consecutive++;
    const limit = this.opts.consecutiveFailures;
    if (limit <= 0 || h.consecutive < limit || h.ejectedUntil !== undefined || !this.mayEject(now)) return NONE;
    this.decay(h, now);
    h.decayFrom = undefined;
    h.ejections++;
    h.consecutive = 0;
    const ms = Math.min(this.opts.baseEjectionMs * h.ejections, this.opts.maxEjectionMs);
    h.ejectedUntil = now + ms;
    return this.note([{
      backend: id, state: 'ejected',
      reason: `${limit} consecutive failures${detail === '' ? '' : ` (last: ${detail})`}; ejected for ${ms / 1000} s (ejection #${h.ejections})`,
    }]);
  }

  /** Ends ejections whose time is up; call on a timer or before picking. */
  tick(now: number): readonly HealthTransition[] {
    let out: HealthTransition[] | undefined;
    for (const [id, h] of this.hosts) {
      if (h.ejectedUntil === undefined || h.ejectedUntil > now) continue;
      h.ejectedUntil = undefined;
      if (h.up) { h.availableSince = now; h.decayFrom = now; }
      (out ??= []).push({ backend: id, state: h.up ? 'up' : 'down', reason: 'ejection time elapsed' });
    }
    return out === undefined ? NONE : this.note(out);
  }

  state(id: string, now: number): HealthState | undefined {
    const h = this.hosts.get(id);
    if (h === undefined) return undefined;
    if (h.ejectedUntil !== undefined && h.ejectedUntil > now) return 'ejected';
    return h.up ? 'up' : 'down';
  }

  /** Ejections that count toward the next ejection's time, after decay up to `now`. */
  ejections(id: string, now: number): number {
    const h = this.hosts.get(id);
    if (h === undefined) return 0;
    this.decay(h, now);
    return h.ejections;
  }

  /** Takes one ejection off per full decay period spent up and not ejected since `decayFrom` (pure arithmetic on now). */
  private decay(h: HostState, now: number): void {
    const period = this.opts.ejectionDecayMs;
    if (period <= 0 || h.ejections === 0 || h.decayFrom === undefined || h.ejectedUntil !== undefined || !h.up) return;
    const steps = Math.floor((now - h.decayFrom) / period);
    if (steps <= 0) return;
    h.ejections = Math.max(0, h.ejections - steps);
    h.decayFrom = h.ejections === 0 ? undefined : h.decayFrom + steps * period;
  }

  healthy(id: string, now: number): boolean {
    return this.state(id, now) === 'up';
  }

  availableSince(id: string): number | undefined {
    return this.hosts.get(id)?.availableSince;
  }

  /** Below the panic threshold every backend is treated as available (Envoy: better some errors than none served). */
  panic(now: number): boolean {
    if (this.opts.panicThresholdPercent <= 0 || this.hosts.size === 0) return false;
    let healthy = 0;
    for (const id of this.hosts.keys()) if (this.healthy(id, now)) healthy++;
    return (healthy * 100) / this.hosts.size < this.opts.panicThresholdPercent;
  }

  /** Every backend failed its active checks: answer 503 at once instead of panicking onto dead hosts. */
  allDown(now: number): boolean {
    if (this.hosts.size === 0) return true;
    for (const id of this.hosts.keys()) if (this.state(id, now) !== 'down') return false;
    return true;
  }

  /** Whether a backend may receive traffic: healthy, or any backend while the pool is in panic. */
  available(id: string, now: number, panic = this.panic(now)): boolean {
    return panic ? this.hosts.has(id) : this.healthy(id, now);
  }

  private mayEject(now: number): boolean {
    let ejected = 0;
    for (const h of this.hosts.values()) if (h.ejectedUntil !== undefined && h.ejectedUntil > now) ejected++;
    const max = Math.max(1, Math.floor((this.hosts.size * this.opts.maxEjectionPercent) / 100));
    return ejected < max;
  }
}
