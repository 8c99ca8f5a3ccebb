import { afterEach, describe, expect, it } from 'vitest';
import { parseBalance } from '../../../src/balance/spec.js';
import { seededRandom } from '../../../src/core/clock.js';
import { createEventBus, type ProxyEvent } from '../../../src/core/events.js';
import { BackendPool, type PoolConfig } from '../../../src/upstream/backend-pool.js';
import { testClock } from '../../helpers/make-flow.js';

// refresh() keeps what it derived until the health changes, an ejection ends or a slow-start ramp moves: these tests
// drive it with explicit times (no sockets: a Backend opens connections only when a request is sent).
const pools: BackendPool[] = [];
afterEach(async () => { for (const p of pools.splice(0)) await p.close(); });

function makePool(extra: Partial<PoolConfig> = {}, n = 3) {
  const bus = createEventBus();
  const events: ProxyEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const pool = new BackendPool({
    name: 'web', balance: parseBalance('round-robin'),
    backends: Array.from({ length: n }, (_, i) => ({ address: `127.0.0.1:${9440 + i}`, weight: 4 })), ...extra,
  }, { clock: testClock, random: seededRandom(1), bus });
  pools.push(pool);
  const available = (): boolean[] => pool.backends.map((b) => b.available);
  return { pool, events, available };
}

describe('BackendPool.refresh', () => {
  it('sees a passive ejection at once, and its end exactly when the ejection time is up', async () => {
    const { pool, events, available } = makePool();
    pool.refresh(0);
    expect(available()).toEqual([true, true, true]);
    const first = pool.backends[0]!;
    for (let i = 0; i < 5; i++) pool.passive(first, true, 10, 'HTTP 502');
    pool.refresh(11);
    expect(available()).toEqual([false, true, true]);
    pool.refresh(30_009);
    expect(available()).toEqual([false, true, true]);
    pool.refresh(30_010);
    expect(available()).toEqual([true, true, true]);
    await new Promise((resolve) => setImmediate(resolve)); // the bus delivers asynchronously
    expect(events.map((e) => e.type === 'backend.health' && e.state)).toEqual(['ejected', 'up']);
  });

  it('sees active check transitions and all-down at the same instant', () => {
    const { pool, available } = makePool({}, 2);
    pool.refresh(0);
    expect(pool.allDown()).toBe(false);
    for (const b of pool.backends) for (let i = 0; i < 3; i++) pool.health.activeResult(b.id, false, 5);
    pool.refresh(5);
    expect(pool.allDown()).toBe(true);
    for (let i = 0; i < 2; i++) pool.health.activeResult(pool.backends[1]!.id, true, 6);
    pool.refresh(6);
    expect(pool.allDown()).toBe(false);
    // One of two up is 50%, not below the panic threshold: only the healthy one is available.
    expect(available()).toEqual([false, true]);
  });

  it('enters and leaves panic as ejections start and end', () => {
    const { pool, available } = makePool({ health: { maxEjectionPercent: 100, consecutiveFailures: 1, baseEjectionMs: 1_000 } }, 2);
    pool.refresh(0);
    pool.passive(pool.backends[0]!, true, 1, '');
    pool.refresh(1);
    expect(available()).toEqual([false, true]);
    pool.passive(pool.backends[1]!, true, 2, '');
    pool.refresh(2);
    expect(available()).toEqual([true, true]); // none healthy: panic balances over all
    pool.refresh(1_001);
    expect(available()).toEqual([true, false]);
    pool.refresh(1_002);
    expect(available()).toEqual([true, true]);
  });

  it('recomputes slow-start weights on every refresh while a ramp runs, then holds the configured weight', () => {
    const { pool } = makePool({ slowStart: { windowMs: 1_000, aggression: 1, minFactor: 0.1 } }, 1);
    const b = pool.backends[0]!;
    for (let i = 0; i < 3; i++) pool.health.activeResult(b.id, false, 0);
    for (let i = 0; i < 2; i++) pool.health.activeResult(b.id, true, 100);
    const weights: number[] = [];
    for (const t of [100, 350, 600, 850, 1_100, 5_000]) {
      pool.refresh(t);
      weights.push(Math.round(b.weight * 100) / 100);
    }
    expect(weights).toEqual([0.4, 1, 2, 3, 4, 4]);
  });
});
