import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCacheStore, entry } from '../../conformance/cache-store.js';
import { liveRedisStore, redisMode, redisStore } from '../../helpers/redis.js';
import { spawnCluster, type TestCluster } from '../../helpers/redis-cluster.js';
import { clusterSeeds } from '../../../src/cache/stores/redis-codec.js';

// A cluster needs redis-server itself, which the single-node Redis tests also need: same run / skip / fail rule.
const mode = await redisMode();

describe('redis-cluster:// URLs', () => {
  it.each([
    ['redis-cluster://a:7000,b:7001', ['redis://a:7000', 'redis://b:7001']],
    ['rediss-cluster://a:7000/', ['rediss://a:7000']],
    ['redis://a:6379/0', undefined],
  ])('%s', (url, seeds) => expect(clusterSeeds(url)).toEqual(seeds));
});

describe.runIf(mode === 'run')('Redis Cluster store', () => {
  let cluster: TestCluster;
  beforeAll(async () => { cluster = await spawnCluster(); }, 20_000);
  afterAll(async () => { await cluster.stop(); });

  describeCacheStore('redis cluster (3 masters)', () => liveRedisStore({ url: cluster.url }), { ttlStepMs: 150 });

  it('spreads entries over the masters and reads multi-chunk bodies with one MGET per entry', async () => {
    const store = redisStore({ url: cluster.url, opTimeoutMs: 1000, chunkBytes: 1000 });
    try {
      await store.ready(3000);
      for (let i = 0; i < 20; i++) await store.set(`http://h${i}.test/x`, entry(new Uint8Array(4500).fill(i)), 60_000);
      for (let i = 0; i < 20; i++) expect((await store.get(`http://h${i}.test/x`))?.body[4499]).toBe(i);
      expect(store.available()).toBe(true);
      expect(await store.purge({ kind: 'all' })).toBe(20 * 6); // 20 heads + 20 × 5 chunks
    } finally {
      await store.close();
    }
  });

  it('an overwrite or a delete also removes the replaced chunks on a cluster (purge all then finds only live keys)', async () => {
    const store = redisStore({ url: cluster.url, opTimeoutMs: 1000, chunkBytes: 1000 });
    try {
      await store.ready(3000);
      for (let i = 0; i < 6; i++) {
        await store.set(`http://o${i}.test/x`, entry(new Uint8Array(4500).fill(i)), 60_000); // 5 chunks
        await store.set(`http://o${i}.test/x`, entry(new Uint8Array(2500).fill(i)), 60_000); // 3 chunks replace them
      }
      await store.delete('http://o0.test/x');
      expect((await store.get('http://o1.test/x'))?.body.byteLength).toBe(2500);
      expect(await store.purge({ kind: 'all' })).toBe(5 * 4); // 5 live heads + 3 chunks each, nothing orphaned
    } finally {
      await store.close();
    }
  });
});
