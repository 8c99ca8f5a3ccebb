import type { RawHeaders, ResponseHead } from '../core/flow.js';
import { getHeader, removeHeader } from '../core/headers.js';
import { httpDate } from './freshness.js';

const CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'];

export function hasValidators(head: ResponseHead): boolean {
  return getHeader(head.headers, 'etag') !== undefined || getHeader(head.headers, 'last-modified') !== undefined;
}

/**
 * §4.3.1: the request to send when revalidating a stored response: the client's own preconditions are replaced by the
 * stored validators (the stage answers the client's conditional itself from the refreshed entry).
 */
export function revalidationHeaders(request: RawHeaders, stored: ResponseHead): RawHeaders {
  let out = request;
  for (const name of CONDITIONALS) out = removeHeader(out, name);
  const etag = getHeader(stored.headers, 'etag');
  const lastModified = getHeader(stored.headers, 'last-modified');
  if (etag !== undefined) out.push(['If-None-Match', etag]);
  if (lastModified !== undefined) out.push(['If-Modified-Since', lastModified]);
  return out;
}

/** Fields a 304 must not overwrite in the stored response (§3.2: framing and representation metadata). */
const NOT_UPDATED = new Set(['content-length', 'content-encoding', 'content-range', 'transfer-encoding', 'content-type']);

/** §3.2 / §4.3.4: the stored head freshened with a 304's fields (each field in the 304 replaces the stored one). */
export function freshenHead(stored: ResponseHead, notModified: ResponseHead): ResponseHead {
  const incoming = notModified.headers.filter(([n]) => !NOT_UPDATED.has(n.toLowerCase()));
  const replaced = new Set(incoming.map(([n]) => n.toLowerCase()));
  const kept = stored.headers.filter(([n]) => !replaced.has(n.toLowerCase()));
  return { ...stored, headers: [...kept, ...incoming] };
}

/** Does a 304 describe the stored response (§4.3.4)? A differing strong ETag means it selected another one. */
export function notModifiedMatches(stored: ResponseHead, notModified: ResponseHead): boolean {
  const a = getHeader(stored.headers, 'etag');
  const b = getHeader(notModified.headers, 'etag');
  return a === undefined || b === undefined || opaque(a) === opaque(b);
}

function opaque(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/** RFC 9110 §13.1.2/§13.1.3, §13.2.2: would this client's GET/HEAD preconditions yield 304 from the stored response? */
export function clientNotModified(request: RawHeaders, stored: ResponseHead): boolean {
  const inm = getHeader(request, 'if-none-match');
  if (inm !== undefined) {
    const etag = getHeader(stored.headers, 'etag');
    if (inm.trim() === '*') return true;
    if (etag === undefined) return false;
    return inm.split(',').some((t) => opaque(t) === opaque(etag)); // weak comparison
  }
  const ims = httpDate(getHeader(request, 'if-modified-since'));
  if (ims === undefined) return false;
  const lastModified = httpDate(getHeader(stored.headers, 'last-modified') ?? getHeader(stored.headers, 'date'));
  return lastModified !== undefined && lastModified <= ims;
}

/** Fields a 304 carries from the 200 it stands for (RFC 9110 §15.4.5). */
const KEPT_IN_304 = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified', 'age', 'via']);

export function notModifiedHead(stored: ResponseHead): ResponseHead {
  return { status: 304, reason: 'Not Modified', headers: stored.headers.filter(([n]) => KEPT_IN_304.has(n.toLowerCase())) };
}
