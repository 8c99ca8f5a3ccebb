import { parseCacheControl, requestCacheControl } from '../cache/cache-control.js';
import { Coalescer } from '../cache/coalesce.js';
import { evaluate, type Evaluation } from '../cache/freshness.js';
import { isUnsafe } from '../cache/invalidation.js';
import { primaryKey } from '../cache/key.js';
import { lookup, type Found } from '../cache/lookup.js';
import { serveEntry } from '../cache/serve.js';
import type { CacheEntry } from '../cache/store.js';
import { withCacheStatus, type CacheStatusParams } from '../cache/status.js';
import { hasValidators, revalidationHeaders } from '../cache/validators.js';
import type { Flow, ResponseHead } from '../core/flow.js';
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
    onResponse: async (flow) => {
      const state = states.get(flow);
      if (!state) return;
      states.delete(flow);
      await onCacheResponse(flow, state, rt);
    },
    close: async () => {
      rt.coalescer.close();
      await deps.store.close();
    },
  };
}

async function onRequest(flow: Flow, rt: CacheRuntime, states: WeakMap<Flow, FlowState>): Promise<Verdict> {
  const req = flow.request;
  const base = { key: primaryKey(req.url), requestTime: rt.deps.clock.now(), clientHeaders: req.headers, revalidating: false };
  if (flow.notes.bypassCache || flow.notes.policy?.action === 'bypass-cache') {
    return bypass(flow, { ...base, requestCc: {}, invalidate: false, bypass: 'policy' }, states);
  }
  if (isUnsafe(req.method)) {
    states.set(flow, { ...base, requestCc: {}, invalidate: true });
    return CONTINUE;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return CONTINUE;
  const requestCc = requestCacheControl(req.headers);
  const state: FlowState = { ...base, requestCc, invalidate: false };
  // Always ask the store: while its breaker is open it answers at once, and lets one probe through per interval.
  let found = await lookup(rt.deps.store, state.key, req.headers);
  if (!rt.deps.store.available()) {
    if (requestCc.onlyIfCached) return gatewayTimeout(flow, rt);
    return bypass(flow, { ...state, bypass: 'store-unavailable' }, states);
  }
  if (!found && req.method === 'GET' && !requestCc.onlyIfCached) found = await coalesce(rt, state);
  const verdict = found ? fromEntry(flow, found, state, rt) : undefined;
  if (verdict) return verdict;
  if (requestCc.onlyIfCached) return gatewayTimeout(flow, rt);
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
  const now = rt.deps.clock.now();
  const meta = entryMeta(entry, rt);
  const ev = evaluate({
    head: entry.head, requestTime: entry.requestTime, responseTime: entry.responseTime,
    responseCc: meta.cc, requestCc: state.requestCc, hasValidators: meta.validators,
  }, now, rt.cfg);
  if (ev.freshness === 'fresh' || ev.freshness === 'stale-while-revalidate') {
    if (ev.freshness === 'stale-while-revalidate') refreshInBackground(flow.request, found, state.key, rt);
    flow.notes.cache = ev.stale ? 'stale' : 'hit';
    return reply(flow, found, ev, rt, { hit: true, ttlS: Math.floor(ev.ttlMs / 1000) });
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

function entryMeta(entry: CacheEntry, rt: CacheRuntime): EntryMeta {
  let meta = rt.meta.get(entry);
  if (!meta) {
    meta = { cc: parseCacheControl(entry.head.headers), validators: hasValidators(entry.head) };
    rt.meta.set(entry, meta);
  }
  return meta;
}

function reply(flow: Flow, found: Found, ev: Evaluation, rt: CacheRuntime, status: CacheStatusParams): Verdict {
  const served = serveEntry(found.entry, flow.request, ev);
  const head = rt.cfg.cacheStatus ? withCacheStatus(served.head, rt.cfg.statusName, status) : served.head;
  return served.body === null ? { kind: 'reply', head } : { kind: 'reply', head, body: served.body };
}

/** only-if-cached with nothing usable stored (RFC 9111 §5.2.1.7). */
function gatewayTimeout(flow: Flow, rt: CacheRuntime): Verdict {
  flow.notes.cache ??= 'miss';
  const body = new TextEncoder().encode('504 Gateway Timeout: only-if-cached and no stored response\n');
  const headers: ResponseHead['headers'] = [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)]];
  const head: ResponseHead = { status: 504, reason: 'Gateway Timeout', headers };
  return { kind: 'reply', head: rt.cfg.cacheStatus ? withCacheStatus(head, rt.cfg.statusName, { fwd: 'miss', detail: 'only-if-cached' }) : head, body };
}
