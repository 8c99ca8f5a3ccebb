import { DEFAULT_BOUNDED_LOAD, hash32, type BoundedLoadOptions } from './hash.js';
import { eligible, weightedRandom, type BackendView, type PickContext, type Picker, type PickerFactory } from './picker.js';
import { acceptable, loadTotals, resolve } from './table.js';

export interface MaglevOptions extends BoundedLoadOptions {
  /** Lookup table size; a prime well above 100 × backends (Envoy's default 65537). */
  readonly tableSize: number;
}

export const DEFAULT_MAGLEV: MaglevOptions = { ...DEFAULT_BOUNDED_LOAD, tableSize: 65537 };

/**
 * Builds the Maglev lookup table (Eisenbud et al. 2016, §3.4): each backend walks its own permutation
 * (offset + j × skip) mod M and claims the next free slot, in turns proportional to its weight.
 */
export function maglevTable(members: readonly BackendView[], size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  if (members.length === 0) return table;
  const offset = members.map((b) => hash32(b.id, 0x9e3779b9) % size);
  const skip = members.map((b) => (hash32(b.id, 0x85ebca6b) % (size - 1)) + 1);
  const next = new Array<number>(members.length).fill(0);
  const claimed = new Array<number>(members.length).fill(0);
  const maxWeight = Math.max(...members.map((b) => b.weight));
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < members.length && filled < size; i++) {
      const member = members[i] as BackendView;
      if (claimed[i] as number >= (round * member.weight) / maxWeight) continue;
      let slot: number;
      do {
        slot = ((offset[i] as number) + (next[i] as number) * (skip[i] as number)) % size;
        next[i] = (next[i] as number) + 1;
      } while (table[slot] !== -1);
      table[slot] = i;
      claimed[i] = (claimed[i] as number) + 1;
      filled++;
    }
  }
  return table;
}

/** Maglev consistent hashing: O(1) lookups, near-minimal disruption; unavailable or overloaded slots walk onwards. */
export class MaglevPicker implements Picker {
  readonly name = 'maglev';
  private readonly table: Int32Array;
  private readonly ids: string[];

  constructor(members: readonly BackendView[], private readonly opts: MaglevOptions = DEFAULT_MAGLEV) {
    const weighted = members.filter((b) => b.weight > 0);
    this.ids = weighted.map((b) => b.id);
    this.table = maglevTable(weighted, opts.tableSize);
  }

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    if (ctx.hashKey === undefined) {
      const b = weightedRandom(backends, ctx);
      if (b !== undefined) ctx.explain?.(`maglev: ${b.id} (no hash key: random)`);
      return b;
    }
    if (this.ids.length === 0) return undefined;
    const size = this.table.length;
    const h = hash32(ctx.hashKey) % size;
    const totals = loadTotals(backends, ctx);
    let fallback: BackendView | undefined;
    // Walking the whole table is bounded by its size; in practice an eligible slot is a few steps away.
    for (let i = 0; i < size; i++) {
      const b = resolve(backends, this.ids, this.table[(h + i) % size] as number);
      if (b === undefined || !eligible(b, ctx)) continue;
      fallback ??= b;
      if (!acceptable(b, ctx, totals, this.opts)) continue;
      ctx.explain?.(`maglev: ${b.id} at slot ${h}${i === 0 ? '' : ` (+${i})`}`);
      return b;
    }
    return fallback;
  }
}

export const maglev = (opts: MaglevOptions = DEFAULT_MAGLEV): PickerFactory => (members) => new MaglevPicker(members, opts);
