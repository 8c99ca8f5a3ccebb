import type { Clock, Random } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { DEFAULT_ACTIVE_CHECK } from '../health/active.js';
import { BackendPool, type PoolConfig } from '../upstream/backend-pool.js';
import type { ReversePoolConfig } from './config.js';

/** lb.yaml's pool section → the upstream's PoolConfig (defaults already applied by the schema). */
export function toPoolConfig(name: string, p: ReversePoolConfig): PoolConfig {
  const h = p.health;
  const checked = h !== undefined && (h.kind === 'tcp' || h.path !== undefined);
  return {
    name, backends: p.backends, balance: p.balance,
    health: { ...p.outlier, ...(h === undefined ? {} : { rise: h.rise, fall: h.fall }) },
    ...(checked ? {
      check: {
        ...DEFAULT_ACTIVE_CHECK, kind: h.kind, path: h.path ?? '/', expectStatus: h.expectStatus,
        intervalMs: h.intervalMs, timeoutMs: h.timeoutMs, jitter: h.jitter,
      },
    } : {}),
    ...(p.retry === undefined ? {} : { retry: p.retry }),
    ...(p.connections === undefined ? {} : {
      connections: {
        connections: p.connections.max, keepAliveTimeoutMs: p.connections.keepAliveTimeoutMs,
        connectTimeoutMs: p.connections.connectTimeoutMs, headersTimeoutMs: p.connections.headersTimeoutMs,
        bodyTimeoutMs: p.connections.bodyTimeoutMs, queueTimeoutMs: p.connections.queueTimeoutMs,
      },
    }),
    ...(p.slowStart === undefined ? {} : { slowStart: p.slowStart }),
    ...(p.sticky === undefined ? {} : { stickyCookie: p.sticky.cookie }),
  };
}

export function buildPools(pools: Record<string, ReversePoolConfig>, deps: { clock: Clock; random: Random; bus: EventBus }): Map<string, BackendPool> {
  const out = new Map<string, BackendPool>();
  for (const [name, p] of Object.entries(pools)) out.set(name, new BackendPool(toPoolConfig(name, p), deps));
  return out;
}
