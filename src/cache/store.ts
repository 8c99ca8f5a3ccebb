import type { RawHeaders, ResponseHead } from '../core/flow.js';

/** One stored response (DESIGN): the head as received, the whole body, when it was fetched, its selecting fields. */
export interface CacheEntry {
  head: ResponseHead;
  body: Uint8Array;
  /** Wall-clock ms when the request was sent / the response received (RFC 9111 §4.2.3). */
  requestTime: number;
  responseTime: number;
  /** The request's values of the fields the response's Vary names (key.ts selectingHeaders). */
  vary: RawHeaders;
}

/** What `portico cache purge` and the admin endpoint remove: everything, or every key starting with a prefix. */
export type PurgeScope = { kind: 'all' } | { kind: 'prefix'; prefix: string };

/**
 * The storage behind the cache stage; memory (LRU) and Redis pass one conformance suite
 * (test/conformance/cache-store.ts). Operations never hang and never throw to the data path: a store that is down
 * answers get() with undefined and drops writes, within its operation timeout.
 */
export interface CacheStore {
  get(key: string): Promise<CacheEntry | undefined>;
  /**
   * The same answer without a promise, for stores that hold entries in the process (memory): a hit is then answered
   * in the same turn, with no microtask hop per lookup. Absent on remote stores.
   */
  getNow?(key: string): CacheEntry | undefined;
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes matching entries; resolves with how many keys went (best effort). */
  purge(scope: PurgeScope): Promise<number>;
  /** False while the store is known to be unreachable (its breaker is open): lookups are BYPASS, not MISS. */
  available(): boolean;
  close(): Promise<void>;
}

/** Approximate bytes an entry holds (body + header text + fixed overhead), for the memory budget. */
export function entrySize(entry: CacheEntry): number {
  let n = entry.body.byteLength + 64;
  for (const [k, v] of entry.head.headers) n += k.length + v.length + 16;
  for (const [k, v] of entry.vary) n += k.length + v.length + 16;
  return n;
}

/** The purge scopes of one URL (its entry and its Vary variants) and of one host (any scheme, any port). */
export function urlScopes(primary: string): { key: string; variants: PurgeScope } {
  return { key: primary, variants: { kind: 'prefix', prefix: `${primary}#` } };
}

export function hostScopes(host: string): PurgeScope[] {
  const h = host.toLowerCase();
  return ['http', 'https'].flatMap((s) => [`${s}://${h}/`, `${s}://${h}:`]).map((prefix) => ({ kind: 'prefix', prefix }));
}
