import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { createRedisStore, type RedisStoreOptions } from '../../src/cache/stores/redis.js';
import { primaryKey } from '../../src/cache/key.js';
import { freePort } from './ports.js';
import type { StoreUnderTest } from '../conformance/cache-store.js';

export { freePort };

export const REDIS_URL = process.env.PORTICO_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** True when something accepts TCP on the Redis port within 300 ms. */
export async function redisReachable(url = REDIS_URL): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(300, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Whether Redis-backed tests run: skipped with a loud warning when Redis is unreachable and CI is not set; under CI an
 * unreachable Redis is a failure (the caller turns `'fail'` into a failing test).
 */
export async function redisMode(): Promise<'run' | 'skip' | 'fail'> {
  if (await redisReachable()) return 'run';
  if (process.env.CI) return 'fail';
  console.warn(`\n!!! Redis is not reachable at ${REDIS_URL}: the Redis cache tests are SKIPPED (they fail under CI) !!!\n`);
  return 'skip';
}

export function testNamespace(): string {
  return `portico-test-${randomBytes(4).toString('hex')}:`;
}

export function redisStore(overrides: Partial<RedisStoreOptions> = {}): ReturnType<typeof createRedisStore> {
  return createRedisStore({
    url: REDIS_URL, namespace: testNamespace(), opTimeoutMs: 50, purgeTimeoutMs: 5000, chunkBytes: 256 * 1024, bodyMsPerMiB: 25,
    failureThreshold: 3, probeIntervalMs: 200, clock: systemClock, log: pino({ level: 'silent' }), ...overrides,
  });
}

/** A Redis store for the conformance suite (describeCacheStore): real time, purged and closed after each test. */
export async function liveRedisStore(overrides: Partial<RedisStoreOptions> = {}): Promise<StoreUnderTest> {
  const store = redisStore({ opTimeoutMs: 1000, ...overrides });
  if (!(await store.ready(3000))) throw new Error(`the Redis store at ${overrides.url ?? REDIS_URL} was not ready within 3 s`);
  return {
    store,
    advance: (ms) => new Promise((r) => setTimeout(r, ms)),
    cleanup: async () => { await store.purge({ kind: 'all' }); await store.close(); },
  };
}

/**
 * Resolves once the cache entry for `url` is in Redis under `namespace`. The store write (chunks, then the head) ends
 * after the client already has the whole body, so another instance asked at once may still miss; a fixed pause
 * before asking it was not always long enough on a loaded machine. Throws when the entry never appears.
 */
export async function waitStoredInRedis(namespace: string, url: string, timeoutMs = 10_000): Promise<void> {
  const store = redisStore({ namespace, opTimeoutMs: 1000 });
  try {
    await store.ready(timeoutMs);
    const key = primaryKey(new URL(url));
    for (const end = Date.now() + timeoutMs; !(await store.get(key));) {
      if (Date.now() > end) throw new Error(`${url} never appeared in Redis (namespace ${namespace})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await store.close();
  }
}

/** A throwaway redis-server (no persistence) for outage tests; killed by its pid. */
export async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await redisReachable(`redis://127.0.0.1:${port}`)) return child;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on ${port} did not start`);
}
