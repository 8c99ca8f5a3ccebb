import type { Random } from '../core/clock.js';

/**
 * The balancing vocabulary shared by L7 and L4: no HTTP types here (caddy-l4 had to re-declare every selector
 * because Caddy's were typed on *http.Request).
 */
export interface BackendView {
  readonly id: string;
  /** Relative share, > 0 (slow start may lower it temporarily). */
  readonly weight: number;
  /** Healthy and not ejected, or the pool is in panic mode (outlier.ts decides). */
  readonly available: boolean;
  /** Requests or connections in flight. */
  readonly active: number;
  /** Peak-EWMA latency in ms (0 = unknown). */
  readonly ewmaMs: number;
}

export interface PickContext {
  /** For consistent hashing: client IP, a header or cookie value. Hash pickers fall back to random without it. */
  readonly hashKey?: string;
  /** Backends already tried (retries go to a different backend). */
  readonly exclude?: ReadonlySet<string>;
  readonly random: Random;
  /** Receives the picker's one-line reason (`p2c: b1 active=3 < b3 active=7`); only built when given. */
  readonly explain?: (reason: string) => void;
}

/** Never returns a backend that is unavailable or excluded; undefined when none is eligible. */
export interface Picker {
  readonly name: string;
  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined;
}

/** Builds a picker for one membership (tables are rebuilt when membership changes, not on every pick). */
export type PickerFactory = (backends: readonly BackendView[]) => Picker;

export function eligible(b: BackendView, ctx: PickContext): boolean {
  return b.available && b.weight > 0 && !(ctx.exclude?.has(b.id) ?? false);
}

/** The eligible backends, in order (allocates; pickers on the hot path iterate with `eligible` instead). */
export function eligibleList(backends: readonly BackendView[], ctx: PickContext): BackendView[] {
  return backends.filter((b) => eligible(b, ctx));
}

/** Weighted random choice among eligible backends; a fallback for hash pickers without a key. */
export function weightedRandom(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
  let total = 0;
  for (const b of backends) if (eligible(b, ctx)) total += b.weight;
  if (total <= 0) return undefined;
  let r = ctx.random() * total;
  let last: BackendView | undefined;
  for (const b of backends) {
    if (!eligible(b, ctx)) continue;
    last = b;
    r -= b.weight;
    if (r < 0) return b;
  }
  return last;
}
