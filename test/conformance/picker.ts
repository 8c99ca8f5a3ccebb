import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendView, PickContext, PickerFactory } from '../../src/balance/picker.js';
import { seededRandom } from '../../src/core/clock.js';

/** Every picker passes this suite (like the CacheStore suite): the invariants the balancer relies on. */
export interface PickerUnderTest {
  readonly name: string;
  readonly factory: PickerFactory;
}

export const backendArb = fc.record({
  weight: fc.integer({ min: 1, max: 5 }),
  available: fc.boolean(),
  active: fc.integer({ min: 0, max: 20 }),
  ewmaMs: fc.integer({ min: 0, max: 200 }),
});

export const poolArb = fc.array(backendArb, { minLength: 0, maxLength: 8 })
  .map((list) => list.map((b, i): BackendView => ({ id: `b${i}`, ...b })));

export function view(id: string, weight = 1, extra: Partial<BackendView> = {}): BackendView {
  return { id, weight, available: true, active: 0, ewmaMs: 0, ...extra };
}

/** Picks `count` times with one seeded random; returns the ids (or '-' for none). */
export function picks(factory: PickerFactory, pool: readonly BackendView[], count: number, seed: number,
  ctx: Partial<PickContext> = {}): string[] {
  const picker = factory(pool);
  const random = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(picker.pick(pool, { random, ...ctx })?.id ?? '-');
  return out;
}

export function pickerConformance(put: PickerUnderTest): void {
  describe(`picker conformance: ${put.name}`, () => {
    it('never returns an unavailable or excluded backend, and returns one whenever one is eligible', () => {
      fc.assert(fc.property(poolArb, fc.array(fc.nat(7)), fc.option(fc.string()), fc.integer(), (pool, ex, key, seed) => {
        const exclude = new Set(ex.map((i) => `b${i}`));
        const picker = put.factory(pool);
        const random = seededRandom(seed);
        const anyEligible = pool.some((b) => b.available && !exclude.has(b.id));
        for (let i = 0; i < 20; i++) {
          const ctx: PickContext = key === null ? { random, exclude } : { random, exclude, hashKey: `${key}${i}` };
          const b = picker.pick(pool, ctx);
          if (!anyEligible) { expect(b).toBeUndefined(); continue; }
          expect(b).toBeDefined();
          expect(b?.available).toBe(true);
          expect(exclude.has(b?.id ?? '')).toBe(false);
        }
      }));
    });

    it('is deterministic for a seed', () => {
      fc.assert(fc.property(poolArb, fc.integer(), (pool, seed) => {
        expect(picks(put.factory, pool, 30, seed)).toEqual(picks(put.factory, pool, 30, seed));
      }));
    });

    it('explains every pick it makes', () => {
      const pool = [view('a', 2), view('b', 1, { active: 3 }), view('c', 1)];
      const reasons: string[] = [];
      const b = put.factory(pool).pick(pool, { random: seededRandom(1), hashKey: 'k', explain: (r) => reasons.push(r) });
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toContain(b?.id ?? '?');
    });
  });
}
