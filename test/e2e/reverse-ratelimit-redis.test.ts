import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mergeConfig, validateConfig, type PlainObject } from '../../src/config/load.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { startReverse, type ReverseProxy } from '../../src/reverse/server.js';
import { freePort, REDIS_URL, redisMode, spawnRedis, testNamespace, waitStoredInRedis } from '../helpers/redis.js';
import { startBackend, type TestBackend } from '../helpers/reverse.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

let mode: 'run' | 'skip' | 'fail';
beforeAll(async () => { mode = await redisMode(); });

async function start(backend: TestBackend, rateLimit: PlainObject, lines: string[] = []): Promise<ReverseProxy> {
  const cfg = validateConfig(reverseConfigSchema, mergeConfig({ listen: '127.0.0.1:0', log: { level: 'silent' } }, {
    pools: { web: { backends: [backend.address] } },
    routes: [{ id: 'api', pool: 'web', rateLimit }],
  }), 'test');
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } });
  const p = await startReverse(cfg, { log: pino({ level: 'warn' }, sink) });
  cleanup.push(() => p.close(500));
  return p;
}

async function statuses(urls: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const u of urls) {
    const res = await fetch(u);
    await res.text();
    out.push(res.status);
  }
  return out;
}

describe('rate limits shared through Redis', () => {
  it('two instances draw from one bucket (atomic Lua token bucket)', async (t) => {
    if (mode === 'skip') return t.skip();
    expect(mode).toBe('run');
    const b = await startBackend('b');
    cleanup.push(() => b.close());
    const rl = { ratePerSecond: 0.01, burst: 3, store: REDIS_URL, redis: { namespace: testNamespace(), opTimeoutMs: 500 } };
    const [p1, p2] = [await start(b, rl), await start(b, rl)];
    const got = await statuses([p1.url, p2.url, p1.url, p2.url, p1.url].map((u) => `${u}/x`));
    expect(got).toEqual([200, 200, 200, 429, 429]);
    const res = await fetch(`${p2.url}/x`);
    expect(res.headers.get('ratelimit')).toMatch(/^"api";r=0;t=\d+$/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(60);
  });

  it('Redis down: fails open with one logged warning (onStoreDown: allow), or refuses (deny), or limits per instance (local)', async (t) => {
    if (mode === 'skip') return t.skip();
    const port = await freePort();
    const redis: ChildProcess = await spawnRedis(port);
    cleanup.push(async () => { redis.kill('SIGKILL'); });
    const b = await startBackend('b');
    cleanup.push(() => b.close());
    const base = { ratePerSecond: 0.01, burst: 2, store: `redis://127.0.0.1:${port}`, redis: { namespace: testNamespace(), opTimeoutMs: 200, failureThreshold: 1 } };
    const lines: string[] = [];
    const open = await start(b, { ...base, onStoreDown: 'allow' }, lines);
    const deny = await start(b, { ...base, onStoreDown: 'deny' });
    const local = await start(b, { ...base, onStoreDown: 'local' });
    expect(await statuses([open.url, open.url, open.url].map((u) => `${u}/x`))).toEqual([200, 200, 429]); // Redis up: enforced
    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    expect(await statuses(Array.from({ length: 5 }, () => `${open.url}/x`))).toEqual([200, 200, 200, 200, 200]);
    const warnings = lines.filter((l) => l.includes('rate-limit store unreachable'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('fail open');
    expect((await statuses([`${deny.url}/x`]))[0]).toBe(429);
    expect(await statuses([local.url, local.url, local.url].map((u) => `${u}/x`))).toEqual([200, 200, 429]);
  });
});

describe('a route cache shared through Redis', () => {
  it('a response stored by one instance is a hit on another, and the backend sees one request', async (t) => {
    if (mode === 'skip') return t.skip();
    expect(mode).toBe('run');
    const b = await startBackend('b', (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=60');
      res.end('shared page');
    });
    cleanup.push(() => b.close());
    const namespace = testNamespace();
    const cache = { store: REDIS_URL, opTimeoutMs: 500, redis: { namespace } };
    const make = async (): Promise<ReverseProxy> => {
      const cfg = validateConfig(reverseConfigSchema, mergeConfig({ listen: '127.0.0.1:0', log: { level: 'silent' } }, {
        pools: { web: { backends: [b.address] } }, routes: [{ id: 'pages', pool: 'web', cache }],
      }), 'test');
      const p = await startReverse(cfg, { log: pino({ level: 'silent' }) });
      cleanup.push(() => p.close(500));
      return p;
    };
    const [p1, p2] = [await make(), await make()];
    // Behind an L4 balancer both instances see the same Host, so the same cache key.
    const get = (port: number): Promise<{ body: string; cacheStatus: string }> => new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/page', headers: { host: 'shop.test' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ body, cacheStatus: String(res.headers['cache-status']) }));
      }).on('error', reject).end();
    });
    expect((await get(p1.port)).body).toBe('shared page');
    // The store write finishes after the response (a fixed 100 ms was the old wait); a route keeps its entries under
    // its own id in the namespace.
    await waitStoredInRedis(`${namespace}pages:`, 'http://shop.test/page');
    const hit = await get(p2.port);
    expect(hit.body).toBe('shared page');
    expect(hit.cacheStatus).toMatch(/portico; hit/);
    expect(b.hits).toBe(1);
  });
});
