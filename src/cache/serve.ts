import type { RawHeaders, RequestHead, ResponseHead } from '../core/flow.js';
import { getHeader, removeHeader } from '../core/headers.js';
import type { Evaluation } from './freshness.js';
import { ifRangeAllows, parseRange, partialHead } from './range.js';
import type { CacheEntry } from './store.js';
import { clientNotModified, notModifiedHead } from './validators.js';

export interface ServedResponse { head: ResponseHead; body: Uint8Array | null }

/** Age in whole seconds (RFC 9111 §5.1), sent on every response from the cache. */
export function withAge(head: ResponseHead, ageMs: number): ResponseHead {
  return { ...head, headers: [...removeHeader(head.headers, 'age'), ['Age', String(Math.max(0, Math.floor(ageMs / 1000)))]] };
}

/**
 * The response for a request answered from a stored entry (pure): 304 when the client's preconditions match, the head
 * only for HEAD, 206/416 for a single satisfiable byte range on a full 200, else the whole stored response.
 */
export function serveEntry(entry: CacheEntry, request: RequestHead, ev: Pick<Evaluation, 'ageMs'>): ServedResponse {
  if (clientNotModified(request.headers, entry.head)) return { head: withAge(notModifiedHead(entry.head), ev.ageMs), body: null };
  const size = entry.body.byteLength;
  let head: ResponseHead = entry.head;
  if (getHeader(head.headers, 'content-length') === undefined && head.status !== 204) {
    head = { ...head, headers: [...head.headers, ['Content-Length', String(size)]] };
  }
  if (request.method === 'HEAD') return { head: withAge(head, ev.ageMs), body: null };
  const rangeHeader = getHeader(request.headers, 'range');
  if (rangeHeader !== undefined && head.status === 200 && ifRangeAllows(request.headers, head)) {
    const range = parseRange(rangeHeader, size);
    if (range !== 'ignore') {
      const body = range === 'unsatisfiable' ? new Uint8Array(0) : entry.body.subarray(range.start, range.end + 1);
      return { head: withAge(partialHead(head, range, size), ev.ageMs), body };
    }
  }
  return { head: withAge(head, ev.ageMs), body: entry.body };
}

/**
 * The fields of every whole response served from this stored head, before its Age: the stored fields without Age,
 * with Content-Length added when absent (what serveEntry builds per request; the cache stage keeps it per entry).
 */
export function wholeResponseFields(head: ResponseHead, size: number): RawHeaders {
  const fields = removeHeader(head.headers, 'age');
  if (getHeader(head.headers, 'content-length') === undefined && head.status !== 204) {
    fields.push(['Content-Length', String(size)]); // where serveEntry has it: Age goes, the rest keeps its order
  }
  return fields;
}

/**
 * True when serveEntry would answer this request with the whole stored response: no If-None-Match,
 * If-Modified-Since or Range field (one pass, names compared only when their length fits).
 */
export function wantsWhole(request: RawHeaders): boolean {
  for (const [name] of request) {
    const n = name.length;
    if (n !== 13 && n !== 17 && n !== 5) continue;
    const lower = name.toLowerCase();
    if (lower === 'if-none-match' || lower === 'if-modified-since' || lower === 'range') return false;
  }
  return true;
}
