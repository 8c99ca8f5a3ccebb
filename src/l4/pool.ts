import type { Clock, Random } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { PickContext, Picker } from '../balance/picker.js';
import { pickerFactory } from '../balance/spec.js';
import { ActiveChecker, DEFAULT_ACTIVE_CHECK } from '../health/active.js';
import { DEFAULT_HEALTH, PoolHealth, type HealthTransition } from '../health/outlier.js';
import { L4Backend } from './backend.js';
import { preconnectOf, type L4PoolConfig } from './config.js';
import { dialBackend } from './dial.js';
import { tcpExpectProbe } from './probe.js';
import { StickTable } from './stick-table.js';
import { WarmSockets } from './warm.js';

export interface L4PoolDeps { readonly clock: Clock; readonly random: Random; readonly bus: EventBus }

/** A pick: the backend and, for the flow record, the reason when stickiness decided it. */
export interface L4Pick { readonly backend: L4Backend; readonly sticky: boolean }

/**
 * One named L4 pool: backends as BackendViews for the shared pickers, the shared health state machine (active
 * TCP or send/expect checks, passive ejection on connect failures), an optional stick table and per-backend caps.
 */
export class L4Pool {
  readonly backends: L4Backend[];
  readonly health: PoolHealth;
  readonly stick: StickTable | undefined;
  /** Picks depend on the client IP (a hash picker or a stick table); otherwise callers need not read it. */
  readonly keyed: boolean;
  /** Pre-connected sockets per backend; undefined when `preconnect.perBackend` is 0 or the pool sends PROXY headers. */
  readonly warm: WarmSockets | undefined;
  private readonly picker: Picker;
  private readonly checker: ActiveChecker | undefined;
  private readonly byId = new Map<string, L4Backend>();

  constructor(readonly name: string, readonly config: L4PoolConfig, private readonly deps: L4PoolDeps) {
    this.backends = config.backends.map((b) => new L4Backend(b.address, b.weight));
    for (const b of this.backends) this.byId.set(b.id, b);
    const h = config.health;
    this.health = new PoolHealth(this.backends.map((b) => b.id), {
      ...DEFAULT_HEALTH, ...config.outlier, ...(h === undefined ? {} : { rise: h.rise, fall: h.fall }),
    });
    this.picker = pickerFactory(config.balance)(this.backends);
    this.stick = config.stick === undefined ? undefined : new StickTable(config.stick);
    this.keyed = this.stick !== undefined || config.balance.hashOn !== undefined;
    this.checker = h === undefined ? undefined : new ActiveChecker(this.backends, {
      ...DEFAULT_ACTIVE_CHECK, kind: 'tcp', intervalMs: h.intervalMs, timeoutMs: h.timeoutMs, jitter: h.jitter,
    }, { pool: name, health: this.health, clock: deps.clock, random: deps.random, bus: deps.bus, probe: tcpExpectProbe(h.send, h.expect) });
    const pre = preconnectOf(config);
    const never = { aborted: false };
    this.warm = pre.perBackend === 0 ? undefined : new WarmSockets(pre,
      (b, done) => dialBackend(b, this, never, (err, socket, reads) => done(err === undefined ? socket : undefined, reads)),
      () => deps.clock.monotonic(), () => config.maxConnectionsPerBackend);
  }

  start(): void { this.checker?.start(); }

  /** Takes over health, counters and stick entries of the pool this one replaces (hot reload). */
  inherit(old: L4Pool, now: number): void {
    this.health.inherit(old.health, now);
    for (const b of this.backends) {
      const prev = old.byId.get(b.id);
      if (prev !== undefined) { b.total = prev.total; b.failures = prev.failures; }
    }
    if (this.stick !== undefined && old.stick !== undefined) this.stick.inherit(old.stick, (id) => this.byId.has(id));
  }

  /**
   * Picks a backend for a new connection from `key` (the client IP): its stick entry when that backend can take
   * it, else the picker (hash pickers hash on the key). Excluded backends (already failed) are skipped.
   */
  pick(key: string, exclude: ReadonlySet<string> | undefined, now: number): L4Pick | undefined {
    this.refresh(now);
    const ctx: PickContext = { hashKey: key, random: this.deps.random, ...(exclude === undefined ? {} : { exclude }) };
    if (this.stick !== undefined) {
      const id = this.stick.lookup(key, now);
      const b = id === undefined ? undefined : this.byId.get(id);
      if (b !== undefined && b.available && b.weight > 0 && !(exclude?.has(b.id) ?? false)) return { backend: b, sticky: true };
    }
    const b = this.picker.pick(this.backends, ctx) as L4Backend | undefined;
    return b === undefined ? undefined : { backend: b, sticky: false };
  }

  /** A connection to `b` is established: count it, remember the client (stick table), clear passive failures. */
  connected(b: L4Backend, key: string, now: number): void {
    b.active++;
    b.total++;
    this.stick?.stick(key, b.id, now);
    this.emit(this.health.passiveResult(b.id, false, now));
  }

  /** The connection ended; refreshes its stick entry's idle clock. */
  released(b: L4Backend, key: string, now: number): void {
    b.active--;
    this.stick?.touch(key, b.id, now);
  }

  /** A connect attempt failed: counts towards passive ejection (Envoy consecutive failures). */
  failed(b: L4Backend, now: number, detail: string): void {
    b.failures++;
    this.emit(this.health.passiveResult(b.id, true, now, detail));
  }

  /** Periodic housekeeping: ejections that ended, expired stick entries. */
  tick(now: number): void {
    this.emit(this.health.tick(now));
    this.stick?.sweep(now);
    this.warm?.sweep(now);
  }

  /** Pool state for /upstreams and the TUI's backends view. */
  snapshot(now: number): Record<string, unknown> {
    return {
      name: this.name, kind: 'l4', balance: this.config.balance.algorithm, panic: this.health.panic(now),
      proxyProtocol: this.config.proxyProtocol, stickEntries: this.stick?.size,
      backends: this.backends.map((b) => ({
        id: b.id, state: this.health.state(b.id, now), reason: this.health.reason(b.id), active: b.active,
        ...(this.warm === undefined ? {} : { warm: b.warm }),
        weight: b.configuredWeight, connections: b.total, connectFailures: b.failures,
      })),
    };
  }

  /** Stops checks and destroys the warm sockets (connections already spliced keep running). */
  async close(): Promise<void> {
    this.warm?.close();
    await this.checker?.close();
  }

  private refresh(now: number): void {
    const panic = this.health.panic(now);
    const cap = this.config.maxConnectionsPerBackend;
    // A warm socket is already counted in the cap: taking it adds no connection.
    for (const b of this.backends) {
      b.available = this.health.available(b.id, now, panic) && (cap === 0 || b.warm > 0 || b.active + b.warming < cap);
    }
  }

  private emit(ts: readonly HealthTransition[]): void {
    for (const t of ts) this.deps.bus.emit({ type: 'backend.health', pool: this.name, backend: t.backend, state: t.state, reason: t.reason });
  }
}
