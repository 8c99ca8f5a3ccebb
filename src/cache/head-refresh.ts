import type { ResponseHead } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import type { CacheEntry } from './store.js';

/** What a HEAD response does to a stored GET response it could have selected (RFC 9111 §4.3.5). */
export type HeadOutcome = { kind: 'update' } | { kind: 'invalidate'; reason: string } | { kind: 'ignore' };

/**
 * RFC 9111 §4.3.5: a 200 to an inbound HEAD updates a stored GET response when every validator the HEAD response
 * carries (ETag, Last-Modified) has the same value in the stored response and, when the HEAD response has a
 * Content-Length, it equals the stored body's length; otherwise the stored response no longer describes the
 * resource and is dropped (the RFC's "consider stale"; this cache keeps nothing it knows to be outdated). Other
 * statuses leave the stored response alone.
 */
export function headOutcome(stored: CacheEntry, head: ResponseHead): HeadOutcome {
  if (head.status !== 200) return { kind: 'ignore' };
  for (const name of ['etag', 'last-modified']) {
    const received = getHeader(head.headers, name);
    if (received === undefined) continue;
    const had = getHeader(stored.head.headers, name);
    if (had === undefined || had.trim() !== received.trim()) return { kind: 'invalidate', reason: `${name} differs` };
  }
  const length = getHeader(head.headers, 'content-length');
  if (length !== undefined && length.trim() !== String(storedLength(stored))) return { kind: 'invalidate', reason: 'content-length differs' };
  return { kind: 'update' };
}

/** The stored representation's length: its Content-Length when it had one, else the stored body's size. */
function storedLength(stored: CacheEntry): number {
  const field = getHeader(stored.head.headers, 'content-length');
  const n = field === undefined ? NaN : Number(field);
  return Number.isInteger(n) && n >= 0 ? n : stored.body.byteLength;
}
