import { eligible, type BackendView, type PickContext, type Picker } from './picker.js';

/**
 * nginx's smooth weighted round robin (ngx_http_upstream_get_peer): each pick adds every eligible backend's weight to
 * its current value, takes the largest, and subtracts the total from it. Weights 5,1,1 give a a b a c a a, not a a a a a b c.
 */
export class SmoothWeightedPicker implements Picker {
  readonly name = 'weighted';
  private readonly current = new Map<string, number>();

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    let total = 0;
    let best: BackendView | undefined;
    let bestCurrent = -Infinity;
    for (const b of backends) {
      if (!eligible(b, ctx)) continue;
      const cur = (this.current.get(b.id) ?? 0) + b.weight;
      this.current.set(b.id, cur);
      total += b.weight;
      if (cur > bestCurrent) { best = b; bestCurrent = cur; }
    }
    if (best === undefined) return undefined;
    this.current.set(best.id, bestCurrent - total);
    ctx.explain?.(`weighted: ${best.id} weight=${best.weight}/${total}`);
    return best;
  }
}

export const smoothWeighted = (): Picker => new SmoothWeightedPicker();
