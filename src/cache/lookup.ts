import { randomBytes } from 'node:crypto';
import type { RawHeaders } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import { varyMatches, varyNames, variantKey } from './key.js';
import type { CacheEntry, CacheStore } from './store.js';

/** A stored response found for a request, with the store key it lives under (for updates after a 304). */
export interface Found { entry: CacheEntry; storeKey: string }

const GENERATION = 'x-portico-variants';

/**
 * Responses with Vary are stored as variants, `primary#<generation>#<selecting values>`, with a small stub at the
 * primary key naming the Vary fields and the generation. Deleting the stub (invalidation, §4.4) orphans every
 * variant in O(1): a new stub gets a new generation, so an old variant can never be selected again.
 */
export function isStub(entry: CacheEntry): boolean {
  return entry.head.status === 0;
}

function stub(names: readonly string[], generation: string): CacheEntry {
  return { head: { status: 0, headers: [['Vary', names.join(', ')], [GENERATION, generation]] }, body: new Uint8Array(0), requestTime: 0, responseTime: 0, vary: [] };
}

export async function lookup(store: CacheStore, primary: string, request: RawHeaders): Promise<Found | undefined> {
  const first = await store.get(primary);
  if (!first) return undefined;
  if (!isStub(first)) return varyMatches(first.head, first.vary, request) ? { entry: first, storeKey: primary } : undefined;
  const key = variantKeyOf(first, primary, request);
  if (key === undefined) return undefined;
  const variant = await store.get(key);
  return variant && varyMatches(variant.head, variant.vary, request) ? { entry: variant, storeKey: key } : undefined;
}

/** lookup() over a store's synchronous getNow (memory): the same answer, in the same turn. */
export function lookupNow(getNow: (key: string) => CacheEntry | undefined, primary: string, request: RawHeaders): Found | undefined {
  const first = getNow(primary);
  if (!first) return undefined;
  if (!isStub(first)) return varyMatches(first.head, first.vary, request) ? { entry: first, storeKey: primary } : undefined;
  const key = variantKeyOf(first, primary, request);
  if (key === undefined) return undefined;
  const variant = getNow(key);
  return variant && varyMatches(variant.head, variant.vary, request) ? { entry: variant, storeKey: key } : undefined;
}

/** The store key of the variant a stub points this request to; undefined for `Vary: *`. */
function variantKeyOf(stub: CacheEntry, primary: string, request: RawHeaders): string | undefined {
  const names = varyNames(stub.head.headers);
  if (names === '*') return undefined;
  return variantKey(`${primary}#${getHeader(stub.head.headers, GENERATION) ?? ''}`, names, request);
}

/** Stores an entry under its primary key, or as a variant behind a stub (reusing the stub's generation). */
export async function save(store: CacheStore, primary: string, entry: CacheEntry, ttlMs: number, request: RawHeaders, stubExtraMs: number): Promise<void> {
  const names = varyNames(entry.head.headers);
  if (names === '*') return;
  if (names.length === 0) return store.set(primary, entry, ttlMs);
  const existing = await store.get(primary);
  const sameStub = existing && isStub(existing) && getHeader(existing.head.headers, 'vary') === names.join(', ');
  const generation = sameStub ? getHeader(existing.head.headers, GENERATION) ?? '' : randomBytes(4).toString('hex');
  await store.set(variantKey(`${primary}#${generation}`, names, request), entry, ttlMs);
  await store.set(primary, stub(names, generation), ttlMs + stubExtraMs);
}
