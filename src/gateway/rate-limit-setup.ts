import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Stage } from '../core/stage.js';
import { createLocalLimiter } from './rate-limit-local.js';
import { rateLimitStage } from './rate-limit-stage.js';
import type { RateLimitConfig } from './schema.js';

/** How long a (re)load waits for the first Redis connection before going on without it. */
const STARTUP_WAIT_MS = 1000;

/** A route's rate-limit stage from its lb.yaml section; Redis keys are prefixed with the route id. */
export async function createRateLimitStage(name: string, cfg: RateLimitConfig, deps: { clock: Clock; log: Logger }): Promise<Stage> {
  const bucket = { ratePerSecond: cfg.ratePerSecond, burst: cfg.burst };
  const local = (): ReturnType<typeof createLocalLimiter> => createLocalLimiter({ ...bucket, maxKeys: cfg.maxKeys }, deps.clock);
  if (cfg.store === 'memory') return rateLimitStage(local(), { name, key: cfg.key, headers: cfg.headers });
  const { createRedisLimiter } = await import('./rate-limit-redis.js'); // only for a Redis store (see cache-setup.ts)
  const limiter = createRedisLimiter({
    ...bucket, url: cfg.store, namespace: `${cfg.redis.namespace}${name}:`, opTimeoutMs: cfg.redis.opTimeoutMs,
    onStoreDown: cfg.onStoreDown, failureThreshold: cfg.redis.failureThreshold, probeIntervalMs: cfg.redis.probeIntervalMs,
    clock: deps.clock, log: deps.log, ...(cfg.onStoreDown === 'local' ? { fallback: local() } : {}),
  });
  if (!(await limiter.ready(STARTUP_WAIT_MS))) {
    deps.log.warn({ route: name, store: cfg.store, onStoreDown: cfg.onStoreDown }, 'rate-limit store not reachable at startup; onStoreDown applies until it is');
  }
  return rateLimitStage(limiter, { name, key: cfg.key, headers: cfg.headers });
}
