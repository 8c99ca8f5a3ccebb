import { parseCacheControl, requestCacheControl } from '../cache/cache-control.js';
import { Coalescer } from '../cache/coalesce.js';
import { correctedInitialAge, evaluateAged, freshnessLifetime, type Evaluation } from '../cache/freshness.js';
import { isUnsafe } from '../cache/invalidation.js';
import { primaryKey } from '../cache/key.js';
import { lookup, lookupNow, type Found } from '../cache/lookup.js';
import { serveEntry, wantsWhole, wholeResponseFields } from '../cache/serve.js';
import type { CacheEntry } from '../cache/store.js';
import { cacheStatus, withCacheStatus, type CacheStatusParams } from '../cache/status.js';
import { hasValidators, revalidationHeaders } from '../cache/validators.js';
import type { Flow, RawHeaders, ResponseHead } from '../core/flow.js';
import { CONTINUE, type Stage, type Verdict } from '../core/stage.js';
import { onCacheResponse } from './cache-response.js';
import { refreshInBackground } from './cache-refresh.js';
import type { CacheRuntime, CacheStageConfig, CacheStageDeps, EntryMeta, FlowState } from './cache-runtime.js';

export type { CacheStageConfig, CacheStageDeps } from './cache-runtime.js';

/**
 * The RFC 9111 shared cache as a stage (DESIGN: onRequest looks up and answers fresh hits; onResponse tees storable
 * responses into the store). Every decision is a pure function in src/cache/; this file only sequences them.
 */
export function cacheStage(cfg: CacheStageConfig, deps: CacheStageDeps): Stage {
  const rt: CacheRuntime = { cfg, deps, coalescer: new Coalescer(cfg.coalesceWaitMs, deps.clock, cfg.hitForPassMs), refreshing: new Set(), meta: new WeakMap() };
  const states = new WeakMap<Flow, FlowState>();
  return {
    name: 'cache',
    onRequest: (flow) => onRequest(flow, rt, states),
    onResponse: (flow) => {
      const state = states.get(flow);
      if (!state) return; // a hit, or a method the cache ignores: nothing to wait for
      states.delete(flow);
      return onCacheResponse(flow, state, rt);
    },
    close: async () => {
      rt.coalescer.close();
      await deps.store.close();
    },
  };
}

/**
 * Synchronous for a memory-store hit (answered in the same turn: no promise, no microtask hop); a promise whenever the
 * store is remote or the request must wait for a coalesced miss.
 */
function onRequest(flow: Flow, rt: CacheRuntime, states: WeakMap<Flow, FlowState>): Verdict | Promise<Verdict> {
  const req = flow.request;
  const key = primaryKey(req.url);
  const requestTime = rt.deps.clock.now();
  if (flow.notes.bypassCache || flow.notes.policy?.action === 'bypass-cache') {
    return bypass(flow, newState(key, requestTime, req.headers, {}, false, 'policy'), states);
  }
  if (isUnsafe(req.method)) {
    states.set(flow, newState(key, requestTime, req.headers, {}, true));
    return CONTINUE;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return CONTINUE;
  const state = newState(key, requestTime, req.headers, requestCacheControl(req.headers), false);
  const store = rt.deps.store;
  if (store.getNow !== undefined && store.available()) {
    const found = lookupNow(store.getNow, key, req.headers);
    if (found) return decide(flow, found, state, rt, states);
    return lookupSlow(flow, state, rt, states, true);
  }
  return lookupSlow(flow, state, rt, states, false);
}

function newState(
  key: string, requestTime: number, clientHeaders: FlowState['clientHeaders'], requestCc: FlowState['requestCc'], invalidate: boolean,
  bypassWhy?: FlowState['bypass'],
): FlowState {
  const state: FlowState = { key, requestTime, clientHeaders, revalidating: false, requestCc, invalidate };
  if (bypassWhy !== undefined) state.bypass = bypassWhy;
  return state;
}

/** The store's answer through its promise (remote stores), then coalescing for a GET miss. */
async function lookupSlow(flow: Flow, state: FlowState, rt: CacheRuntime, states: WeakMap<Flow, FlowState>, looked: boolean): Promise<Verdict> {
  const req = flow.request;
  // Always ask the store: while its breaker is open it answers at once, and lets one probe through per interval.
  let found = looked ? undefined : await lookup(rt.deps.store, state.key, req.headers);
  if (!looked && !rt.deps.store.available()) {
    if (state.requestCc.onlyIfCached) return gatewayTimeout(flow, rt);
    state.bypass = 'store-unavailable';
    return bypass(flow, state, states);
  }
  if (!found && req.method === 'GET' && !state.requestCc.onlyIfCached) found = await coalesce(rt, state);
  return decide(flow, found, state, rt, states);
}

/** A usable stored response answers; otherwise the flow goes forward (a miss, or a revalidation of `found`). */
function decide(flow: Flow, found: Found | undefined, state: FlowState, rt: CacheRuntime, states: WeakMap<Flow, FlowState>): Verdict {
  const verdict = found ? fromEntry(flow, found, state, rt) : undefined;
  if (verdict) return verdict;
  if (state.requestCc.onlyIfCached) return gatewayTimeout(flow, rt);
  flow.notes.cache ??= 'miss';
  states.set(flow, state);
  return CONTINUE;
}

/** The cache stays out of this flow; onResponse only says so in Cache-Status. */
function bypass(flow: Flow, state: FlowState, states: WeakMap<Flow, FlowState>): Verdict {
  flow.notes.cache = 'bypass';
  states.set(flow, state);
  return CONTINUE;
}

/** Waits for an in-flight miss of the same key (bounded), then looks again; otherwise claims the key. */
async function coalesce(rt: CacheRuntime, state: FlowState): Promise<Found | undefined> {
  if (await rt.coalescer.wait(state.key)) {
    const found = await lookup(rt.deps.store, state.key, state.clientHeaders);
    if (found) return found;
  }
  const release = rt.coalescer.claim(state.key);
  if (release) state.release = release;
  return undefined;
}

/** Answers from a stored entry, or prepares its revalidation; undefined to go forward as a plain miss. */
function fromEntry(flow: Flow, found: Found, state: FlowState, rt: CacheRuntime): Verdict | undefined {
  const { entry } = found;
  const meta = entryMeta(entry, rt);
  const ageMs = meta.initialAgeMs + Math.max(0, rt.deps.clock.now() - entry.responseTime); // §4.2.3 current_age
  const ev = evaluateAged({ responseCc: meta.cc, requestCc: state.requestCc, hasValidators: meta.validators }, ageMs, meta.lifetimeMs);
  if (ev.freshness === 'fresh' || ev.freshness === 'stale-while-revalidate') {
    if (ev.freshness === 'stale-while-revalidate') refreshInBackground(flow.request, found, state.key, rt);
    flow.notes.cache = ev.stale ? 'stale' : 'hit';
    return reply(flow, found, meta, ev, rt, { hit: true, ttlS: Math.floor(ev.ttlMs / 1000) });
  }
  state.stored = found;
  if (state.requestCc.onlyIfCached) return gatewayTimeout(flow, rt);
  if (ev.freshness === 'must-revalidate') {
    flow.request.headers = revalidationHeaders(flow.request.headers, entry.head);
    state.revalidating = true;
    flow.notes.cache = 'stale';
  }
  return undefined;
}

/** What every hit on this entry would otherwise derive again from its head (memory-store entries are reused as is). */
function entryMeta(entry: CacheEntry, rt: CacheRuntime): EntryMeta {
  let meta = rt.meta.get(entry);
  if (!meta) {
    const cc = parseCacheControl(entry.head.headers);
    meta = {
      cc, validators: hasValidators(entry.head),
      lifetimeMs: freshnessLifetime(entry.head, cc, rt.cfg, entry.responseTime),
      initialAgeMs: correctedInitialAge(entry),
      wholeFields: wholeResponseFields(entry.head, entry.body.byteLength),
    };
    rt.meta.set(entry, meta);
  }
  return meta;
}

function reply(flow: Flow, found: Found, meta: EntryMeta, ev: Evaluation, rt: CacheRuntime, status: CacheStatusParams): Verdict {
  const req = flow.request;
  if (!wantsWhole(req.headers)) {
    const served = serveEntry(found.entry, req, ev);
    const head = rt.cfg.cacheStatus ? withCacheStatus(served.head, rt.cfg.statusName, status) : served.head;
    return served.body === null ? { kind: 'reply', head } : { kind: 'reply', head, body: served.body };
  }
  // The whole stored response (what serveEntry gives without preconditions or Range), its fields copied once.
  // Copied into an array sized once (measured per hit: ~60 ns, against ~160 ns for slice + push, ~400 ns for concat).
  const fields = meta.wholeFields;
  const n = fields.length;
  const headers: RawHeaders = new Array<[string, string]>(rt.cfg.cacheStatus ? n + 2 : n + 1);
  for (let i = 0; i < n; i++) headers[i] = fields[i] as [string, string];
  headers[n] = ['Age', String(Math.max(0, Math.floor(ev.ageMs / 1000)))];
  if (rt.cfg.cacheStatus) headers[n + 1] = ['Cache-Status', cacheStatus(rt.cfg.statusName, status)];
  const head: ResponseHead = { ...found.entry.head, headers };
  return req.method === 'HEAD' ? { kind: 'reply', head } : { kind: 'reply', head, body: found.entry.body };
}

/** only-if-cached with nothing usable stored (RFC 9111 §5.2.1.7). */
function gatewayTimeout(flow: Flow, rt: CacheRuntime): Verdict {
  flow.notes.cache ??= 'miss';
  const body = new TextEncoder().encode('504 Gateway Timeout: only-if-cached and no stored response\n');
  const headers: ResponseHead['headers'] = [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)]];
  const head: ResponseHead = { status: 504, reason: 'Gateway Timeout', headers };
  return { kind: 'reply', head: rt.cfg.cacheStatus ? withCacheStatus(head, rt.cfg.statusName, { fwd: 'miss', detail: 'only-if-cached' }) : head, body };
}
