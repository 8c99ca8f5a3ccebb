import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../src/cache/stores/memory.js';
import { describeCacheStore } from '../../conformance/cache-store.js';
import { liveRedisStore, REDIS_URL, redisMode, redisStore, testNamespace } from '../../helpers/redis.js';
import { entry } from '../../conformance/cache-store.js';
import { execFileSync } from 'node:child_process';

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
  describeCacheStore('redis (@keyv/redis, chunked raw Buffers)', () => liveRedisStore(), { ttlStepMs: 150 });
}

describe.runIf(mode === 'run')('redis key layout', () => {
  it('keeps every key, head records included, under its namespace (no keyv:: prefix), so purge all leaves nothing', async () => {
    const namespace = testNamespace();
    const store = redisStore({ namespace, opTimeoutMs: 1000 });
    await store.ready(2000);
    const keys = (): string[] => execFileSync('redis-cli', ['-u', REDIS_URL, '--scan', '--pattern', `*${namespace}*`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    try {
      await store.set('http://a.test/x', entry(new Uint8Array([1, 2, 3])), 60_000);
      const layout = keys();
      expect(layout).toHaveLength(2);
      expect(layout).toContain(`${namespace}http://a.test/x`);
      expect(layout.some((k) => k.startsWith(`${namespace}http://a.test/x#~body:`))).toBe(true);
      await store.purge({ kind: 'all' });
      expect(keys()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
