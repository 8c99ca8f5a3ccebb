import { describe, expect, it } from 'vitest';
import { PeakEwma } from '../../../src/balance/ewma.js';
import { ringHash } from '../../../src/balance/ring-hash.js';
import { maglev } from '../../../src/balance/maglev.js';
import { roundRobin } from '../../../src/balance/round-robin.js';
import { slowStartFactor, slowStartWeight } from '../../../src/balance/slow-start.js';
import { parseBalance } from '../../../src/balance/spec.js';
import { StickyPicker } from '../../../src/balance/sticky.js';
import { smoothWeighted } from '../../../src/balance/swrr.js';
import { seededRandom } from '../../../src/core/clock.js';
import { picks, view } from '../../conformance/picker.js';

describe('smooth weighted round robin', () => {
  it("gives nginx's interleaving for weights 5, 1, 1", () => {
    const pool = [view('a', 5), view('b', 1), view('c', 1)];
    expect(picks(() => smoothWeighted(), pool, 7, 1).join('')).toBe('aabacaa');
  });
});

describe('round robin', () => {
  it('skips unavailable backends and keeps rotating', () => {
    const pool = [view('a'), view('b', 1, { available: false }), view('c')];
    expect(picks(() => roundRobin(), pool, 4, 1)).toEqual(['a', 'c', 'a', 'c']);
  });

  it('explains each pick with the slot it took, also after the backend list changed', () => {
    const picker = roundRobin();
    const reasons: string[] = [];
    const ctx = { random: seededRandom(1), explain: (r: string) => reasons.push(r) };
    const three = [view('a'), view('b'), view('c')];
    for (let i = 0; i < 4; i++) picker.pick(three, ctx);
    const two = [view('x'), view('c')];
    for (let i = 0; i < 3; i++) picker.pick(two, ctx);
    expect(reasons).toEqual([
      'round-robin: a (slot 0/3)', 'round-robin: b (slot 1/3)', 'round-robin: c (slot 2/3)', 'round-robin: a (slot 0/3)',
      'round-robin: c (slot 1/2)', 'round-robin: x (slot 0/2)', 'round-robin: c (slot 1/2)',
    ]);
  });
});

describe('bounded loads', () => {
  it.each([['ring-hash', ringHash()], ['maglev', maglev()]])('%s moves a key off a backend far above its fair share', (_n, factory) => {
    const idle = [view('a'), view('b'), view('c')];
    const home = factory(idle).pick(idle, { random: seededRandom(1), hashKey: 'k' })?.id;
    const busy = idle.map((b) => (b.id === home ? { ...b, active: 30 } : b));
    const reasons: string[] = [];
    const moved = factory(busy).pick(busy, { random: seededRandom(1), hashKey: 'k', explain: (r) => reasons.push(r) });
    expect(moved?.id).not.toBe(home);
  });
});

describe('sticky cookie', () => {
  const pool = [view('a'), view('b'), view('c')];
  it('keeps a client on the backend its cookie names, and sets a cookie only when it had none', () => {
    const sticky = new StickyPicker(roundRobin());
    const first = sticky.pick(pool, undefined, { random: seededRandom(1) });
    expect(first.setToken).toBe(sticky.tokenOf(first.backend?.id ?? ''));
    for (let i = 0; i < 5; i++) {
      const again = sticky.pick(pool, first.setToken, { random: seededRandom(1) });
      expect(again.backend?.id).toBe(first.backend?.id);
      expect(again.setToken).toBeUndefined();
    }
  });

  it('falls back to a new pick (and a new cookie) when the backend is gone, down or excluded', () => {
    const sticky = new StickyPicker(roundRobin());
    const token = sticky.tokenOf('b');
    expect(sticky.pick(pool.filter((x) => x.id !== 'b'), token, { random: seededRandom(1) }).backend?.id).not.toBe('b');
    const down = pool.map((x) => (x.id === 'b' ? { ...x, available: false } : x));
    const r = sticky.pick(down, token, { random: seededRandom(1) });
    expect(r.backend?.id).not.toBe('b');
    expect(r.setToken).toBe(sticky.tokenOf(r.backend?.id ?? ''));
    expect(sticky.pick(pool, token, { random: seededRandom(1), exclude: new Set(['b']) }).backend?.id).not.toBe('b');
  });

  it('does not leak the backend address in the token', () => {
    expect(new StickyPicker(roundRobin()).tokenOf('10.0.0.1:80')).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('slow start', () => {
  const opts = { windowMs: 10_000, aggression: 1, minFactor: 0.1 };
  it.each([[0, 0.1], [500, 0.1], [5_000, 0.5], [9_000, 0.9], [10_000, 1], [60_000, 1]])('after %i ms the factor is %f', (t, f) => {
    expect(slowStartFactor(t, opts)).toBeCloseTo(f, 5);
  });
  it('a larger aggression ramps faster at first; window 0 disables it', () => {
    expect(slowStartFactor(2_500, { ...opts, aggression: 2 })).toBeCloseTo(0.5, 5);
    expect(slowStartWeight(4, 0, 1, { ...opts, windowMs: 0 })).toBe(4);
    expect(slowStartWeight(4, undefined, 1, opts)).toBe(4);
    expect(slowStartWeight(4, 0, 5_000, opts)).toBe(2);
  });
});

describe('peak EWMA', () => {
  it('jumps to a slower sample at once and decays towards faster ones', () => {
    const e = new PeakEwma({ decayMs: 1_000 });
    e.observe(10, 0);
    expect(e.observe(100, 10)).toBe(100);
    const after1s = e.observe(10, 1_010);
    expect(after1s).toBeCloseTo(100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)), 5);
    expect(e.observe(10, 10_000)).toBeLessThan(11);
  });
});

describe('--balance spellings', () => {
  it.each([
    ['round-robin', { algorithm: 'round-robin' }], ['weighted', { algorithm: 'weighted' }], ['p2c', { algorithm: 'p2c' }],
    ['hash-ip', { algorithm: 'ring-hash', hashOn: { kind: 'ip' } }],
    ['hash-header:X-User', { algorithm: 'ring-hash', hashOn: { kind: 'header', name: 'X-User' } }],
    ['hash-cookie:sid', { algorithm: 'ring-hash', hashOn: { kind: 'cookie', name: 'sid' } }],
    ['maglev-ip', { algorithm: 'maglev', hashOn: { kind: 'ip' } }],
  ])('%s', (text, spec) => expect(parseBalance(text)).toEqual(spec));

  it.each(['fastest', 'hash-header', 'hash-ip:x', 'hash-cookie:a b', 'constructor', '__proto__', 'toString'])('rejects %s naming the choices', (text) => {
    expect(() => parseBalance(text)).toThrow(/balance/);
  });
});
