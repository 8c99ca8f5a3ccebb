import { eligible, type BackendView, type PickContext, type Picker } from './picker.js';

/** Load per unit of weight: the backend with the lowest (active + 1) / weight takes the next request. */
export function weightedLoad(b: BackendView): number {
  return (b.active + 1) / b.weight;
}

/** Weighted least connections with a random tie-break (Caddy's leastRequests reservoir sampling). */
export class LeastConnPicker implements Picker {
  readonly name = 'least-conn';

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    let best: BackendView | undefined;
    let bestLoad = Infinity;
    let ties = 0;
    for (const b of backends) {
      if (!eligible(b, ctx)) continue;
      const load = weightedLoad(b);
      if (load < bestLoad) { best = b; bestLoad = load; ties = 1; }
      else if (load === bestLoad && ctx.random() * ++ties < 1) best = b;
    }
    if (best !== undefined) ctx.explain?.(`least-conn: ${best.id} active=${best.active} weight=${best.weight}`);
    return best;
  }
}

export const leastConn = (): Picker => new LeastConnPicker();
