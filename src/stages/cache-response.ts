import { parseCacheControl } from '../cache/cache-control.js';
import { isStorable, storedHeaders } from '../cache/cacheability.js';
import { currentAge, freshnessLifetime, storageTtl, usableOnError } from '../cache/freshness.js';
import { invalidationTargets } from '../cache/invalidation.js';
import { primaryKey, selectingHeaders, varyNames } from '../cache/key.js';
import { save, type Found } from '../cache/lookup.js';
import { serveEntry } from '../cache/serve.js';
import { withCacheStatus } from '../cache/status.js';
import type { CacheEntry } from '../cache/store.js';
import { boundedTee } from '../cache/tee.js';
import { headOutcome } from '../cache/head-refresh.js';
import { freshenHead, hasValidators, notModifiedMatches } from '../cache/validators.js';
import type { Flow, RawHeaders, ResponseHead } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import type { CacheRuntime, FlowState } from './cache-runtime.js';

/** onResponse of the cache stage: invalidate, serve stale on error, apply a 304, or tee a storable response. */
export async function onCacheResponse(flow: Flow, state: FlowState, rt: CacheRuntime): Promise<void> {
  let handedOver = false;
  try {
    if (state.bypass) return markBypass(flow, state.bypass, rt);
    if (state.invalidate) return await invalidate(flow, rt);
    if (state.stored && originFailed(flow) && staleOnError(flow, state, state.stored, rt)) return;
    const res = flow.response;
    if (!res || flow.error) return;
    if (state.revalidating && state.stored && res.status === 304 && notModifiedMatches(state.stored.entry.head, res)) {
      return await revalidated(flow, state, state.stored, rt);
    }
    if (flow.request.method === 'HEAD') return await refreshFromHead(flow, res, state, rt);
    handedOver = storeResponse(flow, res, state, rt);
  } finally {
    if (!handedOver) state.release?.();
  }
}

function markBypass(flow: Flow, detail: string, rt: CacheRuntime): void {
  if (rt.cfg.cacheStatus && flow.response) flow.response = withCacheStatus(flow.response, rt.cfg.statusName, { fwd: 'bypass', detail });
}

function originFailed(flow: Flow): boolean {
  const s = flow.response?.status ?? 0;
  return flow.error !== undefined || (s >= 500 && s < 600);
}

/** §4.4: a successful unsafe request removes the target URI and same-origin Location / Content-Location. */
async function invalidate(flow: Flow, rt: CacheRuntime): Promise<void> {
  const res = flow.response;
  if (!res || flow.error) return;
  const targets = invalidationTargets(flow.request.method, flow.request.url, res.status, res.headers);
  await Promise.all(targets.map((url) => rt.deps.store.delete(primaryKey(url))));
}

/** RFC 5861 stale-if-error: the origin failed and the stored response may stand in for it. */
function staleOnError(flow: Flow, state: FlowState, found: Found, rt: CacheRuntime): boolean {
  const { entry } = found;
  const now = rt.deps.clock.now();
  const input = { ...entry, responseCc: parseCacheControl(entry.head.headers), requestCc: state.requestCc, hasValidators: hasValidators(entry.head) };
  if (!usableOnError(input, now, rt.cfg)) return false;
  const body = flow.responseBody;
  if (body && !(body instanceof Uint8Array) && 'destroy' in body && typeof body.destroy === 'function') body.destroy();
  const ageMs = currentAge(entry, now);
  serve(flow, entry, state.clientHeaders, ageMs, rt, { hit: true, detail: 'stale-if-error', ttlS: Math.floor((freshnessLifetime(entry.head, input.responseCc, rt.cfg, entry.responseTime) - ageMs) / 1000) });
  flow.error = undefined;
  flow.notes.cache = 'stale';
  return true;
}

/** §4.3.4: the origin confirmed the stored response; freshen its head, store it again, serve the stored body. */
async function revalidated(flow: Flow, state: FlowState, found: Found, rt: CacheRuntime): Promise<void> {
  const entry = await applyNotModified(found, flow.response as ResponseHead, state.requestTime, rt);
  serve(flow, entry, state.clientHeaders, currentAge(entry, rt.deps.clock.now()), rt, { fwd: 'stale', fwdStatus: 304 });
  flow.notes.cache = 'revalidated';
}

/**
 * §4.3.5: a HEAD that went forward (its stored GET was stale, or the client said no-cache) updates that stored GET's
 * head when validators and length agree, or drops it when they do not. HEAD responses are never stored themselves.
 */
async function refreshFromHead(flow: Flow, res: ResponseHead, state: FlowState, rt: CacheRuntime): Promise<void> {
  const found = state.stored;
  const outcome = found ? headOutcome(found.entry, res) : { kind: 'ignore' as const };
  let detail: string | undefined;
  if (found && outcome.kind === 'update') {
    await applyNotModified(found, res, state.requestTime, rt);
    flow.notes.cache = 'revalidated';
    detail = 'head-refreshed';
  } else {
    if (found && outcome.kind === 'invalidate') {
      await rt.deps.store.delete(found.storeKey);
      detail = 'head-invalidated';
    }
    if (flow.notes.cache === 'stale') flow.notes.cache = 'miss';
  }
  if (!rt.cfg.cacheStatus) return;
  const fwd = state.revalidating ? 'stale' : 'uri-miss';
  flow.response = withCacheStatus(res, rt.cfg.statusName, { fwd, fwdStatus: res.status, ...(detail ? { detail } : {}) });
}

export async function applyNotModified(found: Found, notModified: ResponseHead, requestTime: number, rt: CacheRuntime): Promise<CacheEntry> {
  const now = rt.deps.clock.now();
  const head = freshenHead(found.entry.head, notModified);
  const entry: CacheEntry = { ...found.entry, head, requestTime, responseTime: now };
  const cc = parseCacheControl(head.headers);
  const ttl = storageTtl(freshnessLifetime(head, cc, rt.cfg, now), cc, hasValidators(head), rt.cfg.keepForRevalidationMs);
  await rt.deps.store.set(found.storeKey, entry, ttl);
  return entry;
}

function serve(flow: Flow, entry: CacheEntry, clientHeaders: RawHeaders, ageMs: number, rt: CacheRuntime, status: Parameters<typeof withCacheStatus>[2]): void {
  const served = serveEntry(entry, { ...flow.request, headers: clientHeaders }, { ageMs });
  flow.response = rt.cfg.cacheStatus ? withCacheStatus(served.head, rt.cfg.statusName, status) : served.head;
  flow.responseBody = served.body;
}

/** What storing a response needs, decided before any body byte is read; a reason when it will not be stored. */
export function storePlan(method: string, res: ResponseHead, requestHeaders: RawHeaders, requestTime: number, rt: CacheRuntime): { entry: Omit<CacheEntry, 'body'>; ttlMs: number } | { reason: string } {
  const responseCc = parseCacheControl(res.headers);
  const verdict = isStorable({ method, requestHeaders, requestCc: parseCacheControl(requestHeaders), response: res, responseCc });
  if (!verdict.ok) return { reason: verdict.reason };
  const now = rt.deps.clock.now();
  const lifetime = freshnessLifetime(res, responseCc, rt.cfg, now);
  const validators = hasValidators(res);
  const ttlMs = storageTtl(lifetime, responseCc, validators, rt.cfg.keepForRevalidationMs);
  if (ttlMs <= 0) return { reason: 'no freshness or validators' };
  const length = Number(getHeader(res.headers, 'content-length') ?? NaN);
  if (length > rt.cfg.maxObjectBytes) return { reason: 'too large' };
  const names = varyNames(res.headers);
  const headers = storedHeaders(res.headers, responseCc);
  // RFC 9110 §6.6.1: a cache that stores a response without Date records when it was received.
  const dated: RawHeaders = getHeader(headers, 'date') === undefined ? [...headers, ['Date', new Date(now).toUTCString()]] : headers;
  const head: ResponseHead = { status: res.status, headers: dated, ...(res.reason ? { reason: res.reason } : {}) };
  return { entry: { head, requestTime, responseTime: now, vary: names === '*' ? [] : selectingHeaders(names, requestHeaders) }, ttlMs };
}

/** Tees a storable response into the store (bounded); returns true when the coalescing claim was handed to the tee. */
function storeResponse(flow: Flow, res: ResponseHead, state: FlowState, rt: CacheRuntime): boolean {
  const fwd = state.revalidating ? 'stale' : 'uri-miss';
  if (flow.notes.cache === 'stale') flow.notes.cache = 'miss'; // a full response replaced the stale one
  const plan = storePlan(flow.request.method, res, state.clientHeaders, state.requestTime, rt);
  if ('reason' in plan) {
    rt.coalescer.markPass(state.key);
    if (flow.notes.cache === 'miss') flow.notes.cache = 'uncacheable';
    if (rt.cfg.cacheStatus) flow.response = withCacheStatus(res, rt.cfg.statusName, { fwd, fwdStatus: res.status, detail: plan.reason });
    return false;
  }
  rt.coalescer.clearPass(state.key);
  if (rt.cfg.cacheStatus) flow.response = withCacheStatus(res, rt.cfg.statusName, { fwd, fwdStatus: res.status, stored: true });
  const commit = (body: Uint8Array | undefined): void => {
    if (!body) return state.release?.();
    save(rt.deps.store, state.key, { ...plan.entry, body }, plan.ttlMs, state.clientHeaders, rt.cfg.keepForRevalidationMs)
      .catch((err: unknown) => rt.deps.log.warn({ err, key: state.key }, 'cache store write failed'))
      .finally(() => state.release?.());
  };
  const body = flow.responseBody;
  if (body === null || body === undefined) commit(new Uint8Array(0));
  else if (body instanceof Uint8Array) commit(body.byteLength <= rt.cfg.maxObjectBytes ? ownBytes(body) : undefined);
  else flow.responseBody = boundedTee(body, rt.cfg.maxObjectBytes, commit);
  return true;
}

/**
 * A body that arrived whole may be a view into the larger socket read it came in (dispatch.ts bufferComplete): the
 * memory store must not keep that read alive for the entry's lifetime, so such a view is copied (as the tee's concat did).
 */
function ownBytes(body: Uint8Array): Uint8Array {
  return body.byteLength === body.buffer.byteLength ? body : Buffer.from(body);
}
