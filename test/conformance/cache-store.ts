import { gzipSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheEntry, CacheStore } from '../../src/cache/store.js';
import { hostScopes, urlScopes } from '../../src/cache/store.js';
import { seededRandom } from '../../src/core/clock.js';

export interface StoreUnderTest {
  readonly store: CacheStore;
  /** Moves the store's notion of time forward (a fake clock for memory; a real wait for Redis). */
  advance(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

function randomBody(size: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(random() * 256);
  return out;
}

export function entry(body: Uint8Array, headers: CacheEntry['head']['headers'] = []): CacheEntry {
  return { head: { status: 200, reason: 'OK', headers: [['Content-Type', 'application/octet-stream'], ...headers] }, body, requestTime: 1000, responseTime: 1001, vary: [['accept-encoding', 'gzip']] };
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/**
 * The behaviour every CacheStore must show (undici's cacheStoreTests, Envoy's http_cache_implementation_test_common):
 * exact binary round trips, TTL expiry, delete, purge by URL, host and all.
 */
export function describeCacheStore(name: string, make: () => Promise<StoreUnderTest>, opts: { ttlStepMs: number }): void {
  describe(`CacheStore conformance: ${name}`, () => {
    let t: StoreUnderTest;
    beforeEach(async () => { t = await make(); });
    afterEach(async () => { await t.cleanup(); });

    it('round-trips random binary bodies exactly (0 B to 1.5 MiB, across chunk boundaries)', async () => {
      for (const [i, size] of [0, 1, 255, 65_536, 1_572_865].entries()) {
        const body = randomBody(size, i + 1);
        await t.store.set(`http://a.test/bin${i}`, entry(body), 60_000);
        const got = await t.store.get(`http://a.test/bin${i}`);
        expect(got?.body.byteLength, `size ${size}`).toBe(size);
        expect(same(got?.body, body), `size ${size}`).toBe(true);
      }
    });

    it('round-trips a gzip body and the head, times and selecting fields', async () => {
      const gz = new Uint8Array(gzipSync(Buffer.from('hello '.repeat(1000))));
      const e = entry(gz, [['Content-Encoding', 'gzip'], ['ETag', '"x"']]);
      await t.store.set('http://a.test/gz', e, 60_000);
      const got = await t.store.get('http://a.test/gz');
      expect(got?.head).toEqual(e.head);
      expect([got?.requestTime, got?.responseTime, got?.vary]).toEqual([e.requestTime, e.responseTime, e.vary]);
      expect(gunzipSync(got!.body).toString()).toBe('hello '.repeat(1000));
    });

    it('misses unknown keys, replaces on set, deletes', async () => {
      expect(await t.store.get('http://a.test/none')).toBeUndefined();
      await t.store.set('http://a.test/k', entry(new Uint8Array([1])), 60_000);
      await t.store.set('http://a.test/k', entry(new Uint8Array([2, 2])), 60_000);
      expect([...(await t.store.get('http://a.test/k'))!.body]).toEqual([2, 2]);
      await t.store.delete('http://a.test/k');
      expect(await t.store.get('http://a.test/k')).toBeUndefined();
    });

    it('expires entries after their TTL', async () => {
      await t.store.set('http://a.test/ttl', entry(new Uint8Array([7])), opts.ttlStepMs);
      expect(await t.store.get('http://a.test/ttl')).toBeDefined();
      await t.advance(opts.ttlStepMs * 2);
      expect(await t.store.get('http://a.test/ttl')).toBeUndefined();
    });

    it('purges one URL with its variants, one host, or everything', async () => {
      const keys = ['http://a.test/p', 'http://a.test/p#["v"]', 'http://a.test/pp', 'https://a.test:8443/x', 'http://b.test/p'];
      for (const k of keys) await t.store.set(k, entry(new Uint8Array([1, 2, 3])), 60_000);
      const url = urlScopes('http://a.test/p');
      await t.store.delete(url.key);
      await t.store.purge(url.variants);
      const alive = async (): Promise<boolean[]> => Promise.all(keys.map(async (k) => (await t.store.get(k)) !== undefined));
      expect(await alive()).toEqual([false, false, true, true, true]);
      for (const scope of hostScopes('A.test')) await t.store.purge(scope);
      expect(await alive()).toEqual([false, false, false, false, true]);
      await t.store.purge({ kind: 'all' });
      expect(await alive()).toEqual([false, false, false, false, false]);
    });
  });
}
