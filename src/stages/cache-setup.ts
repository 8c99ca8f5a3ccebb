import type { Logger } from 'pino';
import type { ForwardConfig } from '../config/schema.js';
import { createMemoryStore } from '../cache/stores/memory.js';
import type { CacheStore } from '../cache/store.js';
import { runPurge, type PurgePlan } from '../cache/purge.js';
import type { Clock } from '../core/clock.js';
import type { Flow, RequestHead } from '../core/flow.js';
import type { Stage, Upstream } from '../core/stage.js';
import { cacheStage } from './cache.js';
import type { BackgroundFetch } from './cache-runtime.js';

export type CacheConfig = ForwardConfig['cache'];

/** The store the config names; undefined for `off`. Redis gets a bounded wait for its first connection. */
export async function createCacheStore(cfg: CacheConfig, deps: { clock: Clock; log: Logger }): Promise<CacheStore | undefined> {
  if (cfg.store === 'off') return undefined;
  if (cfg.store === 'memory') return createMemoryStore({ maxMemoryBytes: cfg.maxMemoryBytes, maxObjectBytes: cfg.maxObjectBytes, clock: deps.clock });
  // Loaded only for a Redis store: @keyv/redis and its client are ~100 ms of every start-up with the memory store.
  const { createRedisStore } = await import('../cache/stores/redis.js');
  const store = createRedisStore({
    url: cfg.store, namespace: cfg.redis.namespace, opTimeoutMs: cfg.opTimeoutMs, purgeTimeoutMs: cfg.redis.purgeTimeoutMs,
    chunkBytes: cfg.redis.chunkBytes, bodyMsPerMiB: cfg.redis.bodyMsPerMiB, failureThreshold: cfg.redis.failureThreshold, probeIntervalMs: cfg.redis.probeIntervalMs,
    clock: deps.clock, log: deps.log,
  });
  if (!(await store.ready(1000))) deps.log.warn({ store: cfg.store }, 'cache store not reachable at startup; requests bypass the cache until it is');
  return store;
}

/** A mode's cache: its pipeline stage, and the purge the admin endpoint (and tests) call on the running proxy. */
export interface CacheHandle {
  readonly stage: Stage;
  purge(plan: PurgePlan): Promise<number>;
}

/** The cache for a mode's pipeline, or undefined when the cache is off. */
export async function createCacheStage(cfg: CacheConfig, deps: { clock: Clock; log: Logger; upstream: Upstream }): Promise<CacheHandle | undefined> {
  const store = await createCacheStore(cfg, deps);
  if (!store) return undefined;
  const stage = cacheStage({
    maxObjectBytes: cfg.maxObjectBytes, cacheStatus: cfg.cacheStatus, statusName: cfg.statusName,
    coalesceWaitMs: cfg.coalesceWaitMs, hitForPassMs: cfg.hitForPassMs, keepForRevalidationMs: cfg.keepForRevalidationMs,
    heuristicMaxMs: cfg.heuristicMaxMs, ttlCapMs: cfg.defaultTtlCapMs,
  }, { store, clock: deps.clock, log: deps.log, fetch: backgroundFetch(deps.upstream, deps.clock, deps.log) });
  return { stage, purge: (plan) => runPurge(store, plan) };
}

/** Sends a refresh through the mode's upstream as a flow of its own (never reaches the client or the event bus). */
function backgroundFetch(upstream: Upstream, clock: Clock, log: Logger): BackgroundFetch {
  let n = 0;
  return (request: RequestHead) => {
    const flow: Flow = {
      id: `refresh-${++n}`, mode: 'forward', signal: new AbortController().signal, client: { ip: '127.0.0.1', port: 0 },
      startedAt: clock.now(), request, requestBody: null, notes: {}, timings: { start: clock.monotonic() }, bytesIn: 0, bytesOut: 0,
    };
    return upstream.send(flow, { clock, log });
  };
}
