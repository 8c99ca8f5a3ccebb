import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startCountingOrigin, viaProxy, fixed, type CountingOrigin } from '../helpers/cache-origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import { REDIS_URL, freePort, redisMode, redisStore, spawnRedis, testNamespace, waitStoredInRedis } from '../helpers/redis.js';
import type { ProxyEvent } from '../../src/core/events.js';

const mode = await redisMode();

function notes(proxy: TestProxy, url: string): Array<string | undefined> {
  return proxy.events.filter((e): e is Extract<ProxyEvent, { type: 'flow.end' }> => e.type === 'flow.end' && e.flow.url === url).map((e) => e.flow.notes.cache);
}

if (mode === 'fail') {
  describe('cache over Redis', () => {
    it('needs a reachable Redis under CI', () => {
      throw new Error(`Redis is not reachable at ${REDIS_URL} and CI is set`);
    });
  });
}

describe.runIf(mode === 'run')('cache over a real Redis, shared by two proxies', () => {
  let origin: CountingOrigin;
  let a: TestProxy;
  let b: TestProxy;
  const namespace = testNamespace();
  beforeAll(async () => {
    origin = await startCountingOrigin();
    const cache = { store: REDIS_URL, opTimeoutMs: 500, redis: { namespace } };
    a = await startTestProxy({ cache });
    b = await startTestProxy({ cache });
  });
  afterAll(async () => {
    const cleanup = redisStore({ namespace, opTimeoutMs: 1000 });
    await cleanup.ready(2000);
    await cleanup.purge({ kind: 'all' });
    await cleanup.close();
    await a.close(100);
    await b.close(100);
    await origin.close();
  });

  it('a response cached by one proxy is a hit on the other, byte-exact', async () => {
    const body = randomBytes(300 * 1024);
    origin.route('/shared', (_req, res) => { res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'application/octet-stream' }); res.end(body); });
    const first = await viaProxy(a.url, `${origin.url}/shared`);
    await waitFor(() => notes(a, `${origin.url}/shared`).length === 1);
    await waitStoredInRedis(namespace, `${origin.url}/shared`); // the tee's store write ends after the client got the body
    const second = await viaProxy(b.url, `${origin.url}/shared`);
    expect(origin.hits('/shared')).toBe(1);
    expect([first.body.equals(body), second.body.equals(body)]).toEqual([true, true]);
    expect(second.headers['cache-status']).toMatch(/^portico; hit; ttl=/);
    await waitFor(() => notes(b, `${origin.url}/shared`)[0]);
    expect(notes(b, `${origin.url}/shared`)).toEqual(['hit']);
  });

  it('a POST through one proxy invalidates the entry for the other', async () => {
    origin.route('/inv', (req, res, n) => void res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(`${req.method} ${n}`));
    await viaProxy(a.url, `${origin.url}/inv`);
    await waitStoredInRedis(namespace, `${origin.url}/inv`);
    expect((await viaProxy(b.url, `${origin.url}/inv`)).body.toString()).toBe('GET 1');
    await viaProxy(a.url, `${origin.url}/inv`, { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain' } });
    expect((await viaProxy(b.url, `${origin.url}/inv`)).body.toString()).toBe('GET 3');
  });
});

describe('cache over Redis that is down', () => {
  let origin: CountingOrigin;
  beforeAll(async () => {
    origin = await startCountingOrigin();
    origin.route('/x', fixed({ 'Cache-Control': 'max-age=60' }));
  });
  afterAll(async () => { await origin.close(); });

  it('Redis never reachable (dead port): every request still succeeds, quickly, as BYPASS', async () => {
    const proxy = await startTestProxy({ cache: { store: `redis://127.0.0.1:${await freePort()}` } });
    try {
      const started = Date.now();
      for (let i = 0; i < 6; i++) expect((await viaProxy(proxy.url, `${origin.url}/x`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(3000);
      await waitFor(() => notes(proxy, `${origin.url}/x`).length === 6);
      expect(notes(proxy, `${origin.url}/x`).at(-1)).toBe('bypass');
    } finally {
      await proxy.close(100);
    }
  });

  it.runIf(mode === 'run')('Redis hung (SIGSTOP): requests still succeed without waiting on it', async () => {
    const port = await freePort();
    const server = await spawnRedis(port);
    const proxy = await startTestProxy({ cache: { store: `redis://127.0.0.1:${port}` } });
    origin.route('/hung', fixed({ 'Cache-Control': 'max-age=60' }));
    try {
      server.kill('SIGSTOP');
      const started = Date.now();
      for (let i = 0; i < 5; i++) expect((await viaProxy(proxy.url, `${origin.url}/hung`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000); // 5 requests, each at most one 50 ms lookup before the breaker opens
    } finally {
      server.kill('SIGKILL');
      await proxy.close(100);
    }
  });

  it.runIf(mode === 'run')('Redis killed mid-run: requests keep succeeding, caching resumes when it is back', async () => {
    const port = await freePort();
    let server = await spawnRedis(port);
    const proxy = await startTestProxy({ cache: { store: `redis://127.0.0.1:${port}`, redis: { probeIntervalMs: 100 } } });
    const url = (p: string): string => `${origin.url}${p}`;
    origin.route('/k1', fixed({ 'Cache-Control': 'max-age=60' }));
    origin.route('/k2', fixed({ 'Cache-Control': 'max-age=60' }));
    try {
      await viaProxy(proxy.url, url('/k1'));
      await new Promise((r) => setTimeout(r, 50));
      await viaProxy(proxy.url, url('/k1'));
      expect(origin.hits('/k1')).toBe(1);
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      for (let i = 0; i < 5; i++) expect((await viaProxy(proxy.url, url('/k1'))).body.toString()).toMatch(/^body \d+$/);
      expect(origin.hits('/k1')).toBe(6);
      server = await spawnRedis(port);
      const deadline = Date.now() + 8000;
      let hits = origin.hits('/k2');
      while (Date.now() < deadline) {
        await viaProxy(proxy.url, url('/k2'));
        await new Promise((r) => setTimeout(r, 100));
        const now = origin.hits('/k2');
        if (now === hits) break; // served from the cache again
        hits = now;
      }
      const before = origin.hits('/k2');
      await viaProxy(proxy.url, url('/k2'));
      expect(origin.hits('/k2')).toBe(before);
    } finally {
      await proxy.close(100);
      server.kill('SIGKILL');
    }
  });
});
