import { createHash } from 'node:crypto';
import { createClient } from '@keyv/redis';
import type { Logger } from 'pino';
import { Breaker } from '../cache/breaker.js';
import { withTimeout } from '../cache/stores/timeout.js';
import type { Clock } from '../core/clock.js';
import type { LimitDecision, RateLimiter } from './rate-limit.js';
import { timings, type BucketOptions } from './token-bucket.js';

/**
 * The token bucket of token-bucket.ts, atomically in Redis: one hash per key (tokens, time), refilled from Redis's own
 * clock (TIME) so instances with skewed clocks share one bucket fairly. Returns {allowed, tokens as a string}.
 */
export const TOKEN_BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(v[1])
local at = tonumber(v[2])
if tokens == nil or at == nil then tokens = burst; at = now end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate / 1000)
local allowed = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, tostring(tokens)}
`;

const SHA = createHash('sha1').update(TOKEN_BUCKET_LUA).digest('hex');

/** What happens while Redis cannot answer: let requests through, fall back to a per-instance bucket, or refuse them. */
export type StoreDownPolicy = 'allow' | 'local' | 'deny';

export interface RedisLimiterOptions extends BucketOptions {
  /** redis://[user:pass@]host:port[/db] */
  readonly url: string;
  /** Prefix of every key (a route's limiter adds its route id). */
  readonly namespace: string;
  /** Budget of one decision; past it the request is decided by `onStoreDown`. */
  readonly opTimeoutMs: number;
  readonly onStoreDown: StoreDownPolicy;
  /** Consecutive failures before the breaker opens (decisions then skip Redis) and a warning is logged. */
  readonly failureThreshold: number;
  /** While open, one request per interval probes Redis. */
  readonly probeIntervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** The per-instance limiter for `onStoreDown: local`. */
  readonly fallback?: RateLimiter;
}

interface EvalClient {
  isReady: boolean;
  evalSha(sha: string, o: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, o: { keys: string[]; arguments: string[] }): Promise<unknown>;
  on(event: 'error', fn: (err: Error) => void): unknown;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
}

/** A limiter shared by every Portico using the same Redis and namespace; an outage is decided by `onStoreDown`. */
export function createRedisLimiter(opts: RedisLimiterOptions): RateLimiter & { ready(timeoutMs: number): Promise<boolean> } {
  const client = createClient({
    url: opts.url, disableOfflineQueue: true,
    socket: { connectTimeout: 500, socketTimeout: 2000, reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 2000) },
  }) as unknown as EvalClient;
  client.on('error', () => undefined); // an outage surfaces through the breaker, logged once
  const connecting = client.connect().catch(() => undefined);
  const breaker = new Breaker({ failureThreshold: opts.failureThreshold, probeIntervalMs: opts.probeIntervalMs });
  const options: BucketOptions = { ratePerSecond: opts.ratePerSecond, burst: opts.burst };
  const args = [String(opts.ratePerSecond), String(opts.burst), '1'];
  const down = (key: string): LimitDecision | Promise<LimitDecision> => {
    if (opts.onStoreDown === 'local' && opts.fallback) return opts.fallback.take(key);
    const allowed = opts.onStoreDown !== 'deny';
    return { allowed, remaining: allowed ? opts.burst : 0, retryAfterMs: allowed ? 0 : 1000, resetMs: 0, source: allowed ? 'fail-open' : 'fail-closed' };
  };
  const run = async (key: string): Promise<unknown> => {
    if (!client.isReady) throw new Error('redis client is not connected');
    const o = { keys: [key], arguments: args };
    try {
      return await client.evalSha(SHA, o);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return client.eval(TOKEN_BUCKET_LUA, o);
    }
  };
  return {
    options,
    ready: async (timeoutMs) => {
      await withTimeout(connecting, timeoutMs).catch(() => undefined);
      return client.isReady;
    },
    async take(key) {
      if (!breaker.allow(opts.clock.monotonic())) return down(key);
      try {
        const reply = await withTimeout(run(`${opts.namespace}${key}`), opts.opTimeoutMs);
        const [allowed, tokens] = reply as [number, string];
        if (breaker.success() === 'closed') opts.log.warn({ store: opts.url }, 'rate-limit store reachable again; shared limits apply');
        const left = Number(tokens);
        return { allowed: allowed === 1, ...timings(left, allowed === 1, options), source: 'redis' };
      } catch (err) {
        if (breaker.failure(opts.clock.monotonic()) === 'opened') {
          opts.log.warn({ store: opts.url, err: (err as Error).message, onStoreDown: opts.onStoreDown },
            `rate-limit store unreachable; requests are ${opts.onStoreDown === 'allow' ? 'let through unlimited (fail open)' : opts.onStoreDown === 'local' ? 'limited per instance' : 'refused'} until it is back`);
        }
        return down(key);
      }
    },
    close: async () => {
      await opts.fallback?.close();
      await withTimeout(client.close(), 1000).catch(() => client.destroy());
    },
  };
}
