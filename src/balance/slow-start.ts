export interface SlowStartOptions {
  /** Ramp duration after a backend is added or recovers; 0 disables slow start. */
  readonly windowMs: number;
  /** Envoy's aggression: 1 = linear; larger ramps faster at first. */
  readonly aggression: number;
  /** The weight never drops below this fraction of the configured one (Envoy's min_weight_percent 10%). */
  readonly minFactor: number;
}

export const DEFAULT_SLOW_START: SlowStartOptions = { windowMs: 0, aggression: 1, minFactor: 0.1 };

/** Fraction of its weight a backend gets elapsedMs after it became available (Envoy: (t/window)^(1/aggression)). */
export function slowStartFactor(elapsedMs: number, opts: SlowStartOptions): number {
  if (opts.windowMs <= 0 || elapsedMs >= opts.windowMs) return 1;
  const t = Math.max(elapsedMs, 1) / opts.windowMs;
  return Math.min(1, Math.max(opts.minFactor, Math.pow(t, 1 / Math.max(opts.aggression, 0.01))));
}

/** The effective weight of a backend that has been available since `sinceMs` (undefined: since forever). */
export function slowStartWeight(weight: number, sinceMs: number | undefined, nowMs: number, opts: SlowStartOptions): number {
  if (sinceMs === undefined) return weight;
  return weight * slowStartFactor(nowMs - sinceMs, opts);
}
