import type { BackendView, PickContext, Picker } from './picker.js';
import { drawTwo } from './p2c.js';

export interface PeakEwmaOptions {
  /** Decay time constant: how fast an old latency is forgotten (Finagle's default 10 s). */
  readonly decayMs: number;
}

export const DEFAULT_PEAK_EWMA: PeakEwmaOptions = { decayMs: 10_000 };

/**
 * Peak-EWMA latency (Finagle, linkerd): a sample above the average replaces it at once (peak-sensitive), one below
 * decays it with weight exp(-Δt/τ), so a backend that got slow is avoided immediately and forgiven gradually.
 */
export class PeakEwma {
  private value = 0;
  private stamp: number | undefined;

  constructor(private readonly opts: PeakEwmaOptions = DEFAULT_PEAK_EWMA) {}

  observe(rttMs: number, nowMs: number): number {
    if (this.stamp === undefined || rttMs > this.value) this.value = rttMs;
    else {
      const w = Math.exp(-Math.max(0, nowMs - this.stamp) / this.opts.decayMs);
      this.value = this.value * w + rttMs * (1 - w);
    }
    this.stamp = nowMs;
    return this.value;
  }

  get ms(): number { return this.value; }
}

/** Cost of sending one more request: latency × (outstanding + 1) / weight; unknown latency counts as cheap. */
export function ewmaCost(b: BackendView): number {
  return (Math.max(b.ewmaMs, 1) * (b.active + 1)) / b.weight;
}

/** Power of two choices on peak-EWMA cost. */
export class EwmaPicker implements Picker {
  readonly name = 'ewma';

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    const pair = drawTwo(backends, ctx);
    if (pair === undefined) return undefined;
    const [a, b] = pair;
    const winner = b !== undefined && ewmaCost(b) < ewmaCost(a) ? b : a;
    if (ctx.explain !== undefined) {
      const loser = winner === a ? b : a;
      const fmt = (x: BackendView): string => `${x.id} ewma=${x.ewmaMs.toFixed(1)}ms active=${x.active}`;
      ctx.explain(loser === undefined ? `ewma: ${fmt(winner)} (only candidate)` : `ewma: ${fmt(winner)} < ${fmt(loser)}`);
    }
    return winner;
  }
}

export const ewma = (): Picker => new EwmaPicker();
