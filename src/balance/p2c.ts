import { eligible, type BackendView, type PickContext, type Picker } from './picker.js';
import { weightedLoad } from './least-conn.js';

/** Two distinct eligible backends drawn at random (weights ignored for the draw); undefined when none. */
export function drawTwo(backends: readonly BackendView[], ctx: PickContext): [BackendView, BackendView | undefined] | undefined {
  let count = 0;
  for (const b of backends) if (eligible(b, ctx)) count++;
  if (count === 0) return undefined;
  const i = Math.floor(ctx.random() * count);
  let j = count > 1 ? Math.floor(ctx.random() * (count - 1)) : -1;
  if (j >= i) j++;
  let first: BackendView | undefined;
  let second: BackendView | undefined;
  let k = 0;
  for (const b of backends) {
    if (!eligible(b, ctx)) continue;
    if (k === i) first = b;
    if (k === j) second = b;
    k++;
  }
  return [first as BackendView, second];
}

/** Power of two choices on outstanding requests per weight (Envoy's least_request with choice_count 2). */
export class P2cPicker implements Picker {
  readonly name = 'p2c';

  pick(backends: readonly BackendView[], ctx: PickContext): BackendView | undefined {
    const pair = drawTwo(backends, ctx);
    if (pair === undefined) return undefined;
    const [a, b] = pair;
    if (b === undefined) {
      ctx.explain?.(`p2c: ${a.id} (only candidate)`);
      return a;
    }
    const winner = weightedLoad(b) < weightedLoad(a) ? b : a;
    const loser = winner === a ? b : a;
    ctx.explain?.(`p2c: ${winner.id} active=${winner.active} ${winner.active === loser.active ? '=' : '<'} ${loser.id} active=${loser.active}`);
    return winner;
  }
}

export const p2c = (): Picker => new P2cPicker();
