import type { Clock } from '../core/clock.js';
import type { Entry } from './entry.js';
import { isBlocked, isError } from './entry.js';

/** What the header bar shows. Rates are over the sliding window; the rest counts since start or the last clear. */
export interface CounterSnapshot {
  reqPerSec: number;
  bytesPerSec: number;
  /** hits / (hits + misses + stale + revalidated), undefined before any cacheable lookup. */
  hitRatio: number | undefined;
  total: number;
  blocked: number;
  errors: number;
  /** Intercepted tunnels seen carrying flows and not yet ended (blind tunnels only show when they end). */
  openTunnels: number;
  /** Events the source lost (bus or SSE back-pressure). */
  dropped: number;
}

const BUCKET_MS = 250;
const MAX_OPEN_TUNNELS = 10_000;

/** Sliding-window rates in fixed buckets (no per-event allocation), read from an injected monotonic clock. */
export class Counters {
  private readonly reqs: Float64Array;
  private readonly bytes: Float64Array;
  private bucketAt = 0;
  private total = 0;
  private blocked = 0;
  private errors = 0;
  private hits = 0;
  private lookups = 0;
  private dropped = 0;
  private readonly tunnels = new Set<string>();

  constructor(private readonly clock: Clock, private readonly windowMs = 5_000) {
    const n = Math.max(1, Math.ceil(windowMs / BUCKET_MS));
    this.reqs = new Float64Array(n);
    this.bytes = new Float64Array(n);
    this.bucketAt = Math.floor(clock.monotonic() / BUCKET_MS);
  }

  /** Advances the window to now, zeroing the buckets that fell out of it. */
  private roll(): number {
    const now = Math.floor(this.clock.monotonic() / BUCKET_MS);
    const n = this.reqs.length;
    const steps = Math.min(n, now - this.bucketAt);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.bucketAt + i) % n;
      this.reqs[slot] = 0;
      this.bytes[slot] = 0;
    }
    if (now > this.bucketAt) this.bucketAt = now;
    return this.bucketAt % n;
  }

  record(e: Entry): void {
    const slot = this.roll();
    this.reqs[slot] = (this.reqs[slot] ?? 0) + 1;
    this.bytes[slot] = (this.bytes[slot] ?? 0) + e.flow.bytesIn + e.flow.bytesOut;
    this.total++;
    if (isBlocked(e)) this.blocked++;
    if (isError(e)) this.errors++;
    const cache = e.flow.notes.cache;
    if (cache === 'hit') this.hits++;
    if (cache === 'hit' || cache === 'miss' || cache === 'stale' || cache === 'revalidated') this.lookups++;
    if (e.kind === 'tunnel') this.tunnels.delete(e.flow.id);
    else if (e.flow.notes.tunnel !== undefined && this.tunnels.size < MAX_OPEN_TUNNELS) this.tunnels.add(e.flow.notes.tunnel);
  }

  addDropped(n: number): void {
    this.dropped += n;
  }

  clear(): void {
    this.reqs.fill(0);
    this.bytes.fill(0);
    this.total = this.blocked = this.errors = this.hits = this.lookups = this.dropped = 0;
    this.tunnels.clear();
  }

  snapshot(): CounterSnapshot {
    this.roll();
    const seconds = this.windowMs / 1000;
    const sum = (a: Float64Array): number => a.reduce((x, y) => x + y, 0);
    return {
      reqPerSec: sum(this.reqs) / seconds,
      bytesPerSec: sum(this.bytes) / seconds,
      hitRatio: this.lookups === 0 ? undefined : this.hits / this.lookups,
      total: this.total, blocked: this.blocked, errors: this.errors,
      openTunnels: this.tunnels.size, dropped: this.dropped,
    };
  }
}
