import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { entry } from '../../conformance/cache-store.js';
import { REDIS_URL, redisMode, redisStore, testNamespace } from '../../helpers/redis.js';
import type { RedisCacheStore } from '../../../src/cache/stores/redis.js';

const mode = await redisMode();

/** Every key Redis holds under one test's own namespace (SCAN, so it also sees keys the store can no longer reach). */
function keysUnder(namespace: string): string[] {
  return execFileSync('redis-cli', ['-u', REDIS_URL, '--scan', '--pattern', `${namespace}*`], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

if (mode === 'fail') {
  describe('Redis store leaves no orphaned body chunks', () => {
    it('needs a reachable Redis under CI', () => {
      throw new Error('Redis is not reachable and CI is set: the Redis cache store cannot be verified');
    });
  });
}

describe.runIf(mode === 'run')('Redis store leaves no orphaned body chunks', () => {
  let namespace: string;
  let store: RedisCacheStore;
  const open = async (): Promise<void> => {
    namespace = testNamespace();
    store = redisStore({ namespace, opTimeoutMs: 1000, chunkBytes: 100 });
    expect(await store.ready(2000)).toBe(true);
  };
  afterEach(async () => {
    await store.purge({ kind: 'all' });
    await store.close();
  });

  it('an overwrite removes the replaced chunks: only the new head and its chunks remain', async () => {
    await open();
    await store.set('http://a.test/x', entry(new Uint8Array(450).fill(1)), 60_000); // 5 chunks
    expect(keysUnder(namespace)).toHaveLength(6);
    await store.set('http://a.test/x', entry(new Uint8Array(250).fill(2)), 60_000); // 3 chunks
    const keys = keysUnder(namespace);
    expect(keys).toHaveLength(4);
    expect(keys.filter((k) => k.includes('#~body:'))).toHaveLength(3);
    expect([...(await store.get('http://a.test/x'))!.body]).toEqual([...new Uint8Array(250).fill(2)]);
    await store.set('http://a.test/x', entry(new Uint8Array(0)), 60_000); // an empty body has no chunks
    expect(keysUnder(namespace)).toEqual([`${namespace}http://a.test/x`]);
  });

  it('concurrent overwrites of one key leave exactly one body', async () => {
    await open();
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.set('http://a.test/race', entry(new Uint8Array(300).fill(i)), 60_000)));
    expect(keysUnder(namespace)).toHaveLength(1 + 3);
    const got = await store.get('http://a.test/race');
    expect(got?.body.every((b) => b === got.body[0])).toBe(true);
  });

  it('a delete removes the head and its chunks; deleting a missing key is harmless', async () => {
    await open();
    await store.set('http://a.test/d', entry(new Uint8Array(1000).fill(3)), 60_000);
    await store.set('http://a.test/keep', entry(new Uint8Array(150).fill(4)), 60_000);
    await store.delete('http://a.test/d');
    await store.delete('http://a.test/never-stored');
    expect(keysUnder(namespace).every((k) => k.startsWith(`${namespace}http://a.test/keep`))).toBe(true);
    expect(keysUnder(namespace)).toHaveLength(3);
  });

  it('purges by prefix and all leave nothing behind', async () => {
    await open();
    for (const k of ['http://a.test/p', 'http://a.test/p#["v"]', 'http://b.test/q']) await store.set(k, entry(new Uint8Array(220).fill(5)), 60_000);
    await store.purge({ kind: 'prefix', prefix: 'http://a.test/' });
    expect(keysUnder(namespace).every((k) => k.startsWith(`${namespace}http://b.test/q`))).toBe(true);
    await store.purge({ kind: 'all' });
    expect(keysUnder(namespace)).toEqual([]);
  });

  it('heads written by this layout are still read through keyv with the full TTL on the head', async () => {
    await open();
    await store.set('http://a.test/h', entry(new Uint8Array(120).fill(6), [['ETag', '"e"']]), 60_000);
    const got = await store.get('http://a.test/h');
    expect(got?.head.headers).toContainEqual(['ETag', '"e"']);
    const ttl = Number(execFileSync('redis-cli', ['-u', REDIS_URL, 'pttl', `${namespace}http://a.test/h`], { encoding: 'utf8' }).trim());
    expect(ttl).toBeGreaterThan(50_000);
  });
});
