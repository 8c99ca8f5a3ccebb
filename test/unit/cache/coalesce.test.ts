import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../../src/cache/coalesce.js';

function clock(): { monotonic(): number; advance(ms: number): void } {
  let t = 0;
  return { monotonic: () => t, advance: (ms) => { t += ms; } };
}

describe('Coalescer hit-for-pass', () => {
  it('a key marked pass is neither claimed nor waited on until the pass expires', async () => {
    const c = clock();
    const co = new Coalescer(5000, c, 10_000);
    const release = co.claim('k');
    expect(release).toBeDefined();
    co.markPass('k');
    release?.();
    expect(co.claim('k')).toBeUndefined();
    expect(await co.wait('k')).toBe(false);
    c.advance(10_001);
    expect(co.claim('k')).toBeDefined();
  });

  it('a stored response clears the pass, and the pass list is bounded', () => {
    const c = clock();
    const co = new Coalescer(5000, c, 10_000, 3);
    co.markPass('a');
    co.clearPass('a');
    expect(co.claim('a')).toBeDefined();
    for (const k of ['b', 'c', 'd', 'e']) co.markPass(k);
    expect(co.claim('b')).toBeDefined(); // evicted: the oldest of four with room for three
    expect(co.claim('e')).toBeUndefined();
  });

  it('passMs 0 disables it', () => {
    const co = new Coalescer(5000, clock(), 0);
    co.markPass('k');
    expect(co.claim('k')).toBeDefined();
  });
});
