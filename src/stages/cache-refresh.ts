import { Readable } from 'node:stream';
import { save, type Found } from '../cache/lookup.js';
import { revalidationHeaders } from '../cache/validators.js';
import type { Body, RequestHead } from '../core/flow.js';
import type { UpstreamResponse } from '../core/stage.js';
import { applyNotModified, storePlan } from './cache-response.js';
import type { CacheRuntime } from './cache-runtime.js';
import { stripHopByHop } from './forwarded.js';

/**
 * RFC 5861 stale-while-revalidate: the client got the stale entry; refresh it from the origin in the background, at
 * most one refresh per key at a time. Failures only mean the entry stays stale until its window closes.
 */
export function refreshInBackground(request: RequestHead, found: Found, key: string, rt: CacheRuntime): void {
  const fetch = rt.deps.fetch;
  if (!fetch || rt.refreshing.has(key)) return;
  rt.refreshing.add(key);
  const requestTime = rt.deps.clock.now();
  const clientHeaders = request.headers;
  const headers = revalidationHeaders(stripHopByHop(clientHeaders), found.entry.head);
  fetch({ ...request, method: 'GET', headers })
    .then((res) => applyRefresh(res, found, key, clientHeaders, requestTime, rt))
    .catch((err: unknown) => rt.deps.log.debug({ err, key }, 'background revalidation failed'))
    .finally(() => rt.refreshing.delete(key));
}

async function applyRefresh(res: UpstreamResponse, found: Found, key: string, clientHeaders: RequestHead['headers'], requestTime: number, rt: CacheRuntime): Promise<void> {
  if (res.head.status === 304) {
    discard(res.body);
    await applyNotModified(found, res.head, requestTime, rt);
    return;
  }
  const plan = storePlan('GET', res.head, clientHeaders, requestTime, rt);
  if ('reason' in plan) return discard(res.body);
  const body = res.body instanceof Uint8Array ? (res.body.byteLength <= rt.cfg.maxObjectBytes ? res.body : undefined)
    : res.body ? await readBounded(res.body, rt.cfg.maxObjectBytes) : new Uint8Array(0);
  if (body) await save(rt.deps.store, key, { ...plan.entry, body }, plan.ttlMs, clientHeaders, rt.cfg.keepForRevalidationMs);
}

function discard(body: Body | Uint8Array | null): void {
  if (body instanceof Readable) body.destroy();
}

/** The whole body if it is at most maxBytes; past that the stream is destroyed and undefined returned. */
export async function readBounded(body: Body, maxBytes: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      discard(body);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
