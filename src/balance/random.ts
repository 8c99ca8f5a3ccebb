import { weightedRandom, type BackendView, type PickContext, type Picker } from './picker.js';

/** Weighted random (Caddy's weighted random / Envoy's RANDOM). */
export class RandomPicker implements Picker {
  readonly name = 'random';

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    const b = weightedRandom(backends, ctx);
    if (b !== undefined) ctx.explain?.(`random: ${b.id}`);
    return b;
  }
}

export const random = (): Picker => new RandomPicker();
