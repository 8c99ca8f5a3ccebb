import { eligible, type BackendView, type PickContext } from './picker.js';
import { loadCap, type BoundedLoadOptions } from './hash.js';

/** Resolves a table slot (built for one membership) to the current view of that backend. */
export function resolve(backends: readonly BackendView[], ids: readonly string[], index: number): BackendView | undefined {
  const id = ids[index];
  const b = backends[index];
  if (b !== undefined && b.id === id) return b;
  return backends.find((x) => x.id === id);
}

/** Totals the walk of a hash table needs for bounded loads. */
export function loadTotals(backends: readonly BackendView[], ctx: PickContext): { active: number; weight: number } {
  let active = 0;
  let weight = 0;
  for (const b of backends) {
    if (!eligible(b, ctx)) continue;
    active += b.active;
    weight += b.weight;
  }
  return { active, weight };
}

/** Whether a hash walk may stop at b: eligible, and (with bounded loads) under its cap. */
export function acceptable(b: BackendView, ctx: PickContext, totals: { active: number; weight: number },
  opts: BoundedLoadOptions): boolean {
  return eligible(b, ctx) && b.active < loadCap(totals.active, b.weight, totals.weight, opts);
}
