import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { entry } from '../../conformance/cache-store.js';
import { freePort, redisStore, spawnRedis } from '../../helpers/redis.js';

const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) c.kill('SIGKILL'); });

async function timed<T>(op: Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const v = await op;
  return [v, performance.now() - start];
}

describe('Redis store budgets', () => {
  it('a healthy Redis moves an 8 MiB body within the 50 ms budget plus the per-MiB allowance', async () => {
    const port = await freePort();
    const server = await spawnRedis(port);
    children.push(server);
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, opTimeoutMs: 50, bodyMsPerMiB: 25 });
    try {
      expect(await store.ready(2000)).toBe(true);
      const body = new Uint8Array(8 * 1024 * 1024).map((_, i) => i * 7);
      await store.set('http://a.test/big', entry(body), 60_000);
      const got = await store.get('http://a.test/big');
      expect(got?.body.byteLength).toBe(body.byteLength);
      expect(store.available()).toBe(true);
    } finally {
      await store.close();
      server.kill('SIGKILL');
    }
  });
});

describe('Redis store when Redis is down (LIBRARIES §3.4: never hang)', () => {
  it('a dead port: every operation returns quickly as a miss, and the breaker opens', async () => {
    const store = redisStore({ url: `redis://127.0.0.1:${await freePort()}` });
    try {
      for (let i = 0; i < 10; i++) {
        const [got, ms] = await timed(store.get('http://a.test/x'));
        expect(got).toBeUndefined();
        expect(ms).toBeLessThan(200);
        const [, setMs] = await timed(store.set('http://a.test/x', entry(new Uint8Array([1])), 1000));
        expect(setMs).toBeLessThan(200);
      }
      expect(store.available()).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('a redis-server killed mid-test: misses while down, caching resumes by itself when it is back', async () => {
    const port = await freePort();
    let server = await spawnRedis(port);
    children.push(server);
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, opTimeoutMs: 50, probeIntervalMs: 100 });
    try {
      expect(await store.ready(2000)).toBe(true);
      await store.set('http://a.test/k', entry(new Uint8Array([1, 2])), 60_000);
      expect((await store.get('http://a.test/k'))?.body.byteLength).toBe(2);

      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      for (let i = 0; i < 5; i++) {
        const [got, ms] = await timed(store.get('http://a.test/k'));
        expect(got).toBeUndefined();
        expect(ms).toBeLessThan(200);
      }
      expect(store.available()).toBe(false);

      server = await spawnRedis(port);
      children.push(server);
      const deadline = Date.now() + 8000;
      let back = false;
      while (!back && Date.now() < deadline) {
        await store.set('http://a.test/k2', entry(new Uint8Array([9])), 60_000);
        back = (await store.get('http://a.test/k2')) !== undefined;
        if (!back) await new Promise((r) => setTimeout(r, 100));
      }
      expect(back).toBe(true);
      expect(store.available()).toBe(true);
    } finally {
      await store.close();
      server.kill('SIGKILL');
    }
  });

  it('a hung redis-server (SIGSTOP): operations still return within the timeout', async () => {
    const port = await freePort();
    const server = await spawnRedis(port);
    children.push(server);
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, opTimeoutMs: 50 });
    try {
      expect(await store.ready(2000)).toBe(true);
      server.kill('SIGSTOP');
      const [got, ms] = await timed(store.get('http://a.test/k'));
      expect(got).toBeUndefined();
      expect(ms).toBeLessThan(300);
    } finally {
      server.kill('SIGKILL');
      await store.close();
    }
  });
});
