import { DEFAULT_BOUNDED_LOAD, hash32, type BoundedLoadOptions } from './hash.js';
import { eligible, weightedRandom, type BackendView, type PickContext, type Picker, type PickerFactory } from './picker.js';
import { acceptable, loadTotals, resolve } from './table.js';

export interface RingHashOptions extends BoundedLoadOptions {
  /** Ring points per unit of weight (ketama uses 160 per server; Envoy a 1024-entry minimum ring). */
  readonly pointsPerWeight: number;
}

export const DEFAULT_RING_HASH: RingHashOptions = { ...DEFAULT_BOUNDED_LOAD, pointsPerWeight: 160 };

/**
 * Consistent hashing on a ring (ketama): each backend owns weight × pointsPerWeight points; a key goes to the first
 * point at or after its hash, skipping backends that are unavailable, excluded or above their bounded load. A backend
 * leaving moves only the keys it owned.
 */
export class RingHashPicker implements Picker {
  readonly name = 'ring-hash';
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;
  private readonly ids: string[];

  constructor(members: readonly BackendView[], private readonly opts: RingHashOptions = DEFAULT_RING_HASH) {
    this.ids = members.map((b) => b.id);
    const entries: Array<[number, number]> = [];
    members.forEach((b, owner) => {
      const count = Math.max(1, Math.round(b.weight * opts.pointsPerWeight));
      for (let i = 0; i < count; i++) entries.push([hash32(`${b.id}#${i}`), owner]);
    });
    entries.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = Uint32Array.from(entries, (e) => e[1]);
  }

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    if (ctx.hashKey === undefined) {
      const b = weightedRandom(backends, ctx);
      if (b !== undefined) ctx.explain?.(`ring-hash: ${b.id} (no hash key: random)`);
      return b;
    }
    const n = this.points.length;
    if (n === 0) return undefined;
    const h = hash32(ctx.hashKey);
    const start = this.firstAtOrAfter(h);
    const totals = loadTotals(backends, ctx);
    let fallback: BackendView | undefined;
    for (let i = 0; i < n; i++) {
      const b = resolve(backends, this.ids, this.owners[(start + i) % n] as number);
      if (b === undefined || !eligible(b, ctx)) continue;
      fallback ??= b;
      if (!acceptable(b, ctx, totals, this.opts)) continue;
      ctx.explain?.(`ring-hash: ${b.id} for key hash ${h.toString(16)}${b === fallback ? '' : ' (bounded load: skipped busier)'}`);
      return b;
    }
    return fallback;
  }

  private firstAtOrAfter(h: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }
}

export const ringHash = (opts: RingHashOptions = DEFAULT_RING_HASH): PickerFactory => (members) => new RingHashPicker(members, opts);
