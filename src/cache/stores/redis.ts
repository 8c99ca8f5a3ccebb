import { randomBytes } from 'node:crypto';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { Breaker } from '../breaker.js';
import type { CacheEntry, CacheStore, PurgeScope } from '../store.js';
import { chunkKey, fromRecord, globEscape, splitBody, toRecord, type HeadRecord } from './redis-codec.js';
import { withTimeout } from './timeout.js';

export interface RedisStoreOptions {
  /** redis://host:port[/db] (a single node; see README for Cluster). */
  readonly url: string;
  /** Prefix of every key, e.g. `portico-cache:`; tests use a random one. */
  readonly namespace: string;
  /** Budget of each get/set/delete; past it the operation counts as failed (default 50 ms). */
  readonly opTimeoutMs: number;
  /** Extra budget per MiB of body moved, so a large entry does not time out (and open the breaker) on a healthy Redis. */
  readonly bodyMsPerMiB: number;
  /** Budget of a purge (SCAN + UNLINK over the whole keyspace). */
  readonly purgeTimeoutMs: number;
  /** Bodies are split into raw-Buffer keys of at most this many bytes. */
  readonly chunkBytes: number;
  readonly failureThreshold: number;
  readonly probeIntervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The Buffer-mapped view of the client (RESP blob strings come back as Buffers: 36 is RESP_TYPES.BLOB_STRING). */
type RawClient = { get(k: string): Promise<unknown>; mGet(k: string[]): Promise<unknown[]>; set(k: string, v: Buffer, o: { PX: number }): Promise<unknown> };
interface PlainClient {
  isReady: boolean;
  withTypeMapping(m: Record<number, unknown>): unknown;
  scanIterator(o: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  unlink(keys: string[]): Promise<number>;
  destroy(): void;
}

/**
 * A CacheStore on Redis, set up as LIBRARIES §3.4 recommends: no offline queue, bounded connect and socket timeouts,
 * backoff reconnects; head records through keyv (no double prefix: useKeyPrefix false, our own namespace), bodies as
 * raw Buffer chunks through the client; every operation raced against opTimeoutMs; a breaker that turns an outage into
 * immediate misses, logs once when it opens and once when a probe closes it.
 */
export function createRedisStore(opts: RedisStoreOptions): CacheStore & { ready(timeoutMs: number): Promise<boolean> } {
  const adapter = new KeyvRedis({
    url: opts.url, disableOfflineQueue: true, pingInterval: 1000,
    socket: { connectTimeout: 500, socketTimeout: 2000, reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 2000) },
  }, { throwOnErrors: true, throwOnConnectError: false });
  const kv = new Keyv<HeadRecord>({ store: adapter, useKeyPrefix: false, throwOnErrors: true });
  adapter.on('error', () => undefined); // outages surface through the breaker, not per event (7-20 per outage)
  kv.on('error', () => undefined);
  const connecting = adapter.getClient().catch(() => undefined);
  const client = (): PlainClient => adapter.client as unknown as PlainClient;
  let raw: RawClient | undefined;
  const rawClient = (): RawClient => (raw ??= client().withTypeMapping({ 36: Buffer }) as RawClient);
  const breaker = new Breaker({ failureThreshold: opts.failureThreshold, probeIntervalMs: opts.probeIntervalMs });
  const ns = (key: string): string => `${opts.namespace}${key}`;

  async function guarded<T>(name: string, op: () => Promise<T>, fallback: T, ms = opts.opTimeoutMs): Promise<T> {
    if (!breaker.allow(opts.clock.monotonic())) return fallback;
    try {
      if (!client().isReady) throw new Error('redis client is not connected');
      const value = await withTimeout(op(), ms);
      if (breaker.success() === 'closed') opts.log.warn({ store: 'redis' }, 'cache store reachable again; caching resumes');
      return value;
    } catch (err) {
      if (breaker.failure(opts.clock.monotonic()) === 'opened') {
        opts.log.warn({ store: 'redis', op: name, err: (err as Error).message }, 'cache store unreachable; requests bypass the cache until it is back');
      }
      return fallback;
    }
  }

  /** The budget of an operation that moves `bytes` of body. */
  const budget = (bytes: number): number => opts.opTimeoutMs + Math.ceil((bytes / 1_048_576) * opts.bodyMsPerMiB);

  /** Two bounded steps: the head record, then the body chunks with a budget that grows with the body's size. */
  async function readEntry(key: string): Promise<CacheEntry | undefined> {
    const record = await guarded('get', () => kv.get(ns(key)), undefined);
    if (!record) return undefined;
    if (record.chunks === 0) return fromRecord(record, []);
    const keys = Array.from({ length: record.chunks }, (_, i) => ns(chunkKey(key, record.id, i)));
    const parts = await guarded('get', () => rawClient().mGet(keys) as Promise<Array<Buffer | null>>, undefined, budget(record.size));
    return parts && fromRecord(record, parts);
  }

  async function writeEntry(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    const id = randomBytes(6).toString('hex');
    const chunks = splitBody(entry.body, opts.chunkBytes);
    const px = Math.max(1, Math.ceil(ttlMs));
    await Promise.all(chunks.map((c, i) => rawClient().set(ns(chunkKey(key, id, i)), c, { PX: px })));
    await kv.set(ns(key), toRecord(entry, id, chunks.length), px);
  }

  async function purge(scope: PurgeScope): Promise<number> {
    const match = `${globEscape(opts.namespace)}${scope.kind === 'all' ? '' : globEscape(scope.prefix)}*`;
    let n = 0;
    for await (const keys of client().scanIterator({ MATCH: match, COUNT: 1000 })) {
      if (keys.length > 0) n += await client().unlink(keys);
    }
    return n;
  }

  return {
    get: (key) => readEntry(key),
    set: (key, entry, ttlMs) => guarded('set', () => writeEntry(key, entry, ttlMs), undefined, budget(entry.body.byteLength)),
    delete: (key) => guarded('delete', async () => { await kv.delete(ns(key)); }, undefined),
    purge: (scope) => guarded('purge', () => purge(scope), 0, opts.purgeTimeoutMs),
    available: () => !breaker.open,
    ready: async (timeoutMs) => {
      await withTimeout(connecting, timeoutMs).catch(() => undefined);
      return client().isReady;
    },
    close: async () => {
      await withTimeout(kv.disconnect(), 1000).catch(() => {
        try {
          client().destroy(); // a hung server never answers QUIT
        } catch {
          // already closed by its socket timeout
        }
      });
    },
  };
}
