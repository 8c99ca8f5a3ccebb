import type { Logger } from 'pino';
import type { CacheControl } from '../cache/cache-control.js';
import type { Coalescer } from '../cache/coalesce.js';
import type { FreshnessOptions } from '../cache/freshness.js';
import type { Found } from '../cache/lookup.js';
import type { CacheEntry, CacheStore } from '../cache/store.js';
import type { Clock } from '../core/clock.js';
import type { RawHeaders, RequestHead } from '../core/flow.js';
import type { UpstreamResponse } from '../core/stage.js';

export interface CacheStageConfig extends FreshnessOptions {
  /** Responses larger than this stream through uncached; never buffered beyond it. */
  readonly maxObjectBytes: number;
  /** Add the RFC 9211 Cache-Status field to responses. */
  readonly cacheStatus: boolean;
  /** The cache's name in Cache-Status. */
  readonly statusName: string;
  /** Concurrent misses for one key wait at most this long for the first one (0 disables coalescing). */
  readonly coalesceWaitMs: number;
  /** A key found uncacheable skips coalescing this long (hit-for-pass); 0 disables it. */
  readonly hitForPassMs?: number;
  /** Entries with validators stay stored this long past their freshness, for cheap revalidation. */
  readonly keepForRevalidationMs: number;
}

/** Sends a request to the origin outside any client flow (stale-while-revalidate background refresh). */
export type BackgroundFetch = (request: RequestHead) => Promise<UpstreamResponse>;

export interface CacheStageDeps {
  readonly store: CacheStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly fetch?: BackgroundFetch;
}

export interface EntryMeta {
  readonly cc: CacheControl;
  readonly validators: boolean;
  /** §4.2.1 freshness lifetime and §4.2.3 corrected_initial_age: fixed once the entry is stored. */
  readonly lifetimeMs: number;
  readonly initialAgeMs: number;
  /** The fields of a whole response served from the entry, before Age and Cache-Status (serve.ts wholeResponseFields). */
  readonly wholeFields: RawHeaders;
}

/** What onRequest learned about a flow that onResponse needs. */
export interface FlowState {
  readonly key: string;
  readonly requestTime: number;
  readonly requestCc: CacheControl;
  /** The client's own request fields (before stored validators replaced its preconditions). */
  readonly clientHeaders: RawHeaders;
  /** A stored but unusable-as-is entry: revalidated, or served if the origin fails (stale-if-error). */
  stored?: Found;
  revalidating: boolean;
  /** Why the cache stayed out of this flow (policy bypass-cache, store unavailable), for Cache-Status. */
  bypass?: 'policy' | 'store-unavailable';
  /** Only for unsafe methods: invalidate on success (§4.4). */
  invalidate: boolean;
  /** The coalescing claim, released once the response is stored or known not to be. */
  release?: () => void;
}

export interface CacheRuntime {
  readonly cfg: CacheStageConfig;
  readonly deps: CacheStageDeps;
  readonly coalescer: Coalescer;
  /** Keys with a background refresh in flight (at most one each). */
  readonly refreshing: Set<string>;
  /** Per stored entry, what every hit would otherwise re-derive from its head (memory-store entries are reused). */
  readonly meta: WeakMap<CacheEntry, EntryMeta>;
}
