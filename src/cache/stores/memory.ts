import { LRUCache } from 'lru-cache';
import type { Clock } from '../../core/clock.js';
import { entrySize, type CacheEntry, type CacheStore, type PurgeScope } from '../store.js';

export interface MemoryStoreOptions {
  /** Total budget; least recently used entries are evicted beyond it. */
  readonly maxMemoryBytes: number;
  /** Entries larger than this are not kept (the stage never offers them anyway). */
  readonly maxObjectBytes: number;
  readonly clock: Clock;
}

/**
 * In-process LRU over lru-cache directly, not behind keyv: keyv's default Map store JSON-serialises (171 µs per 16 KiB
 * entry vs 2.6 µs raw, LIBRARIES §3.3), passing LRUCache to keyv needs a shim and loses errors, and purge by prefix
 * needs key iteration that keyv's store contract hides. lru-cache gives the byte budget (maxSize + sizeCalculation),
 * per-entry TTL checked lazily on read (no timers), and reads the injected clock through `perf`.
 */
export function createMemoryStore(opts: MemoryStoreOptions): CacheStore {
  const lru = new LRUCache<string, CacheEntry>({
    maxSize: opts.maxMemoryBytes,
    maxEntrySize: Math.min(opts.maxObjectBytes + 64 * 1024, opts.maxMemoryBytes), // body + head overhead, never above the budget
    sizeCalculation: (entry) => Math.max(1, entrySize(entry)),
    perf: { now: () => opts.clock.monotonic() },
    ttlResolution: 0, // read the injected clock on every check instead of caching it behind a timer
  });
  return {
    get: (key) => Promise.resolve(lru.get(key)),
    getNow: (key) => lru.get(key),
    set: (key, entry, ttlMs) => {
      lru.set(key, entry, ttlMs > 0 ? { ttl: ttlMs } : {});
      return Promise.resolve();
    },
    delete: (key) => {
      lru.delete(key);
      return Promise.resolve();
    },
    purge: (scope) => Promise.resolve(purge(lru, scope)),
    available: () => true,
    close: () => {
      lru.clear();
      return Promise.resolve();
    },
  };
}

function purge(lru: LRUCache<string, CacheEntry>, scope: PurgeScope): number {
  if (scope.kind === 'all') {
    const n = lru.size;
    lru.clear();
    return n;
  }
  let n = 0;
  for (const key of [...lru.keys()]) {
    if (key.startsWith(scope.prefix) && lru.delete(key)) n++;
  }
  return n;
}
