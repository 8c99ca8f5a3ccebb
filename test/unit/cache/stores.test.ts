import { describe, it } from 'vitest';
import { createMemoryStore } from '../../../src/cache/stores/memory.js';
import { describeCacheStore } from '../../conformance/cache-store.js';
import { redisMode, redisStore } from '../../helpers/redis.js';

describeCacheStore('memory (lru-cache)', async () => {
  let now = 1_000_000; // lru-cache treats a start time of 0 as "no TTL"
  const store = createMemoryStore({ maxMemoryBytes: 64 * 1024 * 1024, maxObjectBytes: 8 * 1024 * 1024, clock: { now: () => now, monotonic: () => now } });
  return { store, advance: async (ms) => { now += ms; }, cleanup: () => store.close() };
}, { ttlStepMs: 1000 });

const mode = await redisMode();
if (mode === 'fail') {
  describe('CacheStore conformance: redis', () => {
    it('needs a reachable Redis under CI', () => {
      throw new Error('Redis is not reachable and CI is set: the Redis cache store cannot be verified');
    });
  });
} else if (mode === 'run') {
  describeCacheStore('redis (@keyv/redis, chunked raw Buffers)', async () => {
    const store = redisStore({ opTimeoutMs: 1000 });
    await store.ready(2000);
    return {
      store,
      advance: (ms) => new Promise((r) => setTimeout(r, ms)),
      cleanup: async () => { await store.purge({ kind: 'all' }); await store.close(); },
    };
  }, { ttlStepMs: 150 });
}
