import { eligible, type BackendView, type PickContext, type Picker } from './picker.js';

/** Plain round robin over eligible backends, weights ignored (Caddy's round_robin). */
export class RoundRobinPicker implements Picker {
  readonly name = 'round-robin';
  private next = 0;

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    const n = backends.length;
    for (let i = 0; i < n; i++) {
      const index = (this.next + i) % n;
      const b = backends[index] as BackendView;
      if (!eligible(b, ctx)) continue;
      this.next = (index + 1) % n;
      ctx.explain?.(`round-robin: ${b.id} (slot ${index}/${n})`);
      return b;
    }
    return undefined;
  }
}

export const roundRobin = (): Picker => new RoundRobinPicker();
