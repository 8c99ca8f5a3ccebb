import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/clock.js';
import { createEventBus } from '../../../src/core/events.js';
import { validateConfig } from '../../../src/config/load.js';
import { l4ConfigSchema } from '../../../src/l4/config.js';
import { L4Pool } from '../../../src/l4/pool.js';

function pool(extra: Record<string, unknown>): L4Pool {
  const c = validateConfig(l4ConfigSchema, {
    listeners: [{ listen: '127.0.0.1:0' }], pools: { p: { backends: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'], ...extra } },
  }, 'test');
  return new L4Pool('p', c.pools.p!, { clock: { now: () => 0, monotonic: () => 0 }, random: seededRandom(1), bus: createEventBus() });
}

describe('L4Pool picks', () => {
  it('round robin per connection over the shared picker', () => {
    const p = pool({});
    expect([1, 2, 3, 4].map(() => p.pick('192.0.2.1', undefined, 0)?.backend.id)).toEqual(['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:1']);
  });

  it('a stuck client returns to its backend after a health flap (the entry survives the down time)', () => {
    const p = pool({ stick: { ttlMs: 10_000 }, outlier: { consecutiveFailures: 1, baseEjectionMs: 1000, maxEjectionPercent: 100 } });
    const first = p.pick('192.0.2.1', undefined, 0)!.backend;
    p.connected(first, '192.0.2.1', 0);
    p.released(first, '192.0.2.1', 10);
    expect(p.pick('192.0.2.1', undefined, 20)).toMatchObject({ backend: first, sticky: true });
    p.failed(first, 30, 'ECONNREFUSED'); // ejected until 1030
    const during = p.pick('192.0.2.1', undefined, 40)!;
    expect(during.backend.id).not.toBe(first.id);
    expect(during.sticky).toBe(false);
    expect(p.pick('192.0.2.1', undefined, 1100)).toMatchObject({ backend: first, sticky: true });
    expect(p.pick('192.0.2.1', undefined, 1100 + 10_001)?.sticky).toBe(false); // idle past the TTL
  });

  it('skips excluded (already failed) backends and full ones (maxConnectionsPerBackend)', () => {
    const p = pool({ maxConnectionsPerBackend: 1, balance: 'least-conn' });
    const a = p.pick('c', undefined, 0)!.backend;
    p.connected(a, 'c', 0);
    const b = p.pick('c', new Set([a.id]), 0)!.backend;
    p.connected(b, 'c', 0);
    const c = p.pick('c', undefined, 0)!.backend;
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    p.connected(c, 'c', 0);
    expect(p.pick('c', undefined, 0)).toBeUndefined();
    p.released(b, 'c', 0);
    expect(p.pick('c', undefined, 0)?.backend.id).toBe(b.id);
  });

  it('hash-ip keeps a client on one backend without a table', () => {
    const p = pool({ balance: 'hash-ip' });
    const ids = new Set([1, 2, 3, 4, 5].map(() => p.pick('198.51.100.9', undefined, 0)?.backend.id));
    expect(ids.size).toBe(1);
  });
});
