import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH, PoolHealth, type HealthTransition } from '../../../src/health/outlier.js';

type Step =
  | { at: number; check: string; ok: boolean }
  | { at: number; passive: string; fail: boolean }
  | { at: number; tick: true };

function run(ids: string[], steps: Step[], opts = DEFAULT_HEALTH): { pool: PoolHealth; log: string[] } {
  const pool = new PoolHealth(ids, opts);
  const log: string[] = [];
  const note = (at: number, ts: readonly HealthTransition[]): void => {
    for (const t of ts) log.push(`${at} ${t.backend} ${t.state}: ${t.reason}`);
  };
  for (const s of steps) {
    if ('check' in s) note(s.at, pool.activeResult(s.check, s.ok, s.at));
    else if ('passive' in s) note(s.at, pool.passiveResult(s.passive, s.fail, s.at));
    else note(s.at, pool.tick(s.at));
  }
  return { pool, log };
}

const checks = (id: string, results: boolean[], from = 0, every = 2_000): Step[] =>
  results.map((ok, i) => ({ at: from + i * every, check: id, ok }));
const fails = (id: string, n: number, at: number): Step[] => Array.from({ length: n }, () => ({ at, passive: id, fail: true }));

describe('active checks: HAProxy rise 2 / fall 3', () => {
  it.each([
    { name: 'two failures keep it up', results: [false, false], state: 'up', events: 0 },
    { name: 'three consecutive failures take it down', results: [false, false, false], state: 'down', events: 1 },
    { name: 'a pass resets the failure streak', results: [false, false, true, false, false], state: 'up', events: 0 },
    { name: 'down, then one pass is not enough', results: [false, false, false, true], state: 'down', events: 1 },
    { name: 'down, then two passes bring it up', results: [false, false, false, true, true], state: 'up', events: 2 },
    { name: 'a failure between passes restarts the rise', results: [false, false, false, true, false, true], state: 'down', events: 1 },
  ])('$name', ({ results, state, events }) => {
    const { pool, log } = run(['a'], checks('a', results));
    expect(pool.state('a', 100_000)).toBe(state);
    expect(log).toHaveLength(events);
  });

  it('says why', () => {
    const { log } = run(['a'], [...checks('a', [false, false, false]), { at: 9_000, check: 'a', ok: true },
      { at: 11_000, check: 'a', ok: true }]);
    expect(log).toEqual(['4000 a down: 3 consecutive failed checks', '11000 a up: 2 consecutive passing checks']);
  });
});

describe('passive ejection: Envoy consecutive 5xx', () => {
  const ten = Array.from({ length: 10 }, (_, i) => `b${i}`);

  it('5 consecutive failures eject for 30 s; a success in between resets the count', () => {
    const { pool, log } = run(ten, [...fails('b1', 4, 0), { at: 0, passive: 'b1', fail: false }, ...fails('b1', 4, 1)]);
    expect(pool.state('b1', 1)).toBe('up');
    expect(log).toEqual([]);
    const again = run(ten, fails('b1', 5, 1_000));
    expect(again.pool.state('b1', 1_000)).toBe('ejected');
    expect(again.pool.state('b1', 30_999)).toBe('ejected');
    expect(again.log[0]).toMatch(/b1 ejected: 5 consecutive failures; ejected for 30 s \(ejection #1\)/);
  });

  it.each([
    { ejection: 1, ms: 30_000 }, { ejection: 2, ms: 60_000 }, { ejection: 3, ms: 90_000 }, { ejection: 10, ms: 300_000 },
    { ejection: 12, ms: 300_000 },
  ])('ejection #$ejection lasts $ms ms (30 s × n, capped at 300 s)', ({ ejection, ms }) => {
    const steps: Step[] = [];
    let t = 0;
    for (let i = 1; i < ejection; i++) {
      steps.push(...fails('b1', 5, t));
      t += 400_000;
      steps.push({ at: t, tick: true });
    }
    steps.push(...fails('b1', 5, t));
    const { pool } = run(ten, steps);
    expect(pool.state('b1', t + ms - 1)).toBe('ejected');
    expect(pool.state('b1', t + ms)).toBe('up');
  });

  it('ejects at most 10% of a pool, but at least one host', () => {
    const { pool } = run(ten, [...fails('b1', 5, 0), ...fails('b2', 5, 0)]);
    expect(pool.state('b1', 0)).toBe('ejected');
    expect(pool.state('b2', 0)).toBe('up');
    const small = run(['a', 'b', 'c'], [...fails('a', 5, 0), ...fails('b', 5, 0)]);
    expect([small.pool.state('a', 0), small.pool.state('b', 0)]).toEqual(['ejected', 'up']);
    const twenty = run(Array.from({ length: 20 }, (_, i) => `b${i}`), [...fails('b1', 5, 0), ...fails('b2', 5, 0), ...fails('b3', 5, 0)]);
    expect(['b1', 'b2', 'b3'].map((b) => twenty.pool.state(b, 0))).toEqual(['ejected', 'ejected', 'up']);
  });

  it('a passing active check un-ejects at once; the timer also ends it (tick)', () => {
    const { pool, log } = run(ten, [...fails('b1', 5, 0), { at: 5_000, check: 'b1', ok: true }]);
    expect(pool.state('b1', 5_000)).toBe('up');
    expect(log[1]).toBe('5000 b1 up: ejection ended by a passing active check');
    const timed = run(ten, [...fails('b1', 5, 0), { at: 29_999, tick: true }, { at: 30_000, tick: true }]);
    expect(timed.log).toHaveLength(2);
    expect(timed.log[1]).toBe('30000 b1 up: ejection time elapsed');
  });
});

describe('panic threshold and all down', () => {
  it.each([
    { down: 0, panic: false }, { down: 1, panic: false }, { down: 2, panic: false }, { down: 3, panic: true }, { down: 4, panic: true },
  ])('$down of 4 down → panic $panic (below 50% healthy balances over all)', ({ down, panic }) => {
    const ids = ['a', 'b', 'c', 'd'];
    const { pool } = run(ids, ids.slice(0, down).flatMap((id) => checks(id, [false, false, false])));
    expect(pool.panic(10_000)).toBe(panic);
    expect(pool.available('a', 10_000)).toBe(panic || down === 0);
    expect(pool.allDown(10_000)).toBe(down === 4);
  });

  it('keeps the state of unchanged backends across a membership change (hot reload)', () => {
    const { pool } = run(['a', 'b'], checks('a', [false, false, false]));
    pool.sync(['a', 'c']);
    expect(pool.state('a', 10_000)).toBe('down');
    expect(pool.state('b', 10_000)).toBeUndefined();
    expect(pool.state('c', 10_000)).toBe('up');
    const next = new PoolHealth(['a', 'd']);
    next.inherit(pool, 12_000);
    expect(next.state('a', 12_000)).toBe('down');
    expect(next.availableSince('d')).toBe(12_000);
  });

  it('records when a backend became available again, for slow start', () => {
    const { pool } = run(['a'], checks('a', [false, false, false, true, true]));
    expect(pool.availableSince('a')).toBe(8_000);
  });
});

describe('ejection count decay (Envoy: the multiplier drops each interval the host stays healthy)', () => {
  const ten = Array.from({ length: 10 }, (_, i) => `b${i + 1}`);
  const eject = (at: number): Step[] => fails('b1', 5, at);
  /** Ejects b1 at `at`, ends the ejection with a tick at `end`, and returns the pool for more steps. */
  const ejectionMs = (pool: PoolHealth, at: number): number => {
    for (let i = 0; i < 5; i++) pool.passiveResult('b1', true, at);
    let ms = 0;
    while (pool.state('b1', at + ms) === 'ejected') ms += 1_000;
    return ms;
  };

  it('grows with consecutive ejections and shrinks again after healthy time, one step per decay period', () => {
    const pool = new PoolHealth(ten, DEFAULT_HEALTH);
    expect(ejectionMs(pool, 0)).toBe(30_000); // #1
    pool.tick(30_000);
    expect(ejectionMs(pool, 30_000)).toBe(60_000); // #2 right after: no healthy time in between
    pool.tick(90_000);
    expect(pool.ejections('b1', 90_000)).toBe(2);
    expect(pool.ejections('b1', 99_999)).toBe(2);
    expect(pool.ejections('b1', 100_000)).toBe(1); // one decay period (10 s) up and not ejected
    expect(ejectionMs(pool, 105_000)).toBe(60_000); // 1 left + this one = #2 again, not #3
    pool.tick(165_000);
    expect(pool.ejections('b1', 165_000 + 20_000)).toBe(0);
    expect(ejectionMs(pool, 185_000)).toBe(30_000); // back to the base time
  });

  it('does not decay while ejected or down by active checks, and not at all with ejectionDecayMs 0', () => {
    const { pool } = run(ten, [...eject(0), { at: 30_000, tick: true }, ...checks('b1', [false, false, false], 30_000, 1)]);
    expect(pool.state('b1', 30_002)).toBe('down');
    expect(pool.ejections('b1', 500_000)).toBe(1); // down the whole time: nothing decays
    const frozen = run(ten, [...eject(0), { at: 30_000, tick: true }], { ...DEFAULT_HEALTH, ejectionDecayMs: 0 }).pool;
    expect(frozen.ejections('b1', 10_000_000)).toBe(1);
    const during = run(ten, eject(0)).pool;
    expect(during.ejections('b1', 29_999)).toBe(1); // still ejected
  });

  it('a backend taken down and brought back by checks starts decaying when it is up again', () => {
    const steps: Step[] = [...eject(0), { at: 30_000, tick: true }, ...checks('b1', [false, false, false], 31_000, 1)];
    const { pool } = run(ten, steps);
    pool.activeResult('b1', true, 100_000);
    pool.activeResult('b1', true, 101_000); // up again at 101 s
    expect(pool.ejections('b1', 110_999)).toBe(1);
    expect(pool.ejections('b1', 111_000)).toBe(0);
  });
});
