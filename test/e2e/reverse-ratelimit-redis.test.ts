import type { ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mergeConfig, validateConfig, type PlainObject } from '../../src/config/load.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { startReverse, type ReverseProxy } from '../../src/reverse/server.js';
import { freePort, REDIS_URL, redisMode, spawnRedis, testNamespace } from '../helpers/redis.js';
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
