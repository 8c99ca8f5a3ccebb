import { eligible, type BackendView, type PickContext, type Picker } from './picker.js';

/** Plain round robin over eligible backends, weights ignored (Caddy's round_robin). */
export class RoundRobinPicker implements Picker {
  readonly name = 'round-robin';
  private next = 0;
  /** The reason last given for each slot: the same few strings every round, so they are built once, not per pick. */
  private readonly reasons: Array<{ readonly id: string; readonly n: number; readonly text: string } | undefined> = [];

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    const n = backends.length;
    for (let i = 0; i < n; i++) {
      const index = (this.next + i) % n;
      const b = backends[index] as BackendView;
      if (!eligible(b, ctx)) continue;
      this.next = (index + 1) % n;
      if (ctx.explain !== undefined) ctx.explain(this.reason(b.id, index, n));
      return b;
    }
    return undefined;
  }

  private reason(id: string, index: number, n: number): string {
    const cached = this.reasons[index];
    if (cached !== undefined && cached.id === id && cached.n === n) return cached.text;
    const text = `round-robin: ${id} (slot ${index}/${n})`;
    this.reasons[index] = { id, n, text };
    return text;
  }
}

export const roundRobin = (): Picker => new RoundRobinPicker();
