import type { RawHeaders, ResponseHead } from '../core/flow.js';
import { getHeader, removeHeader } from '../core/headers.js';
import { httpDate } from './freshness.js';

export interface ByteRange { start: number; end: number }

/**
 * A single `bytes=` range over a body of `size` bytes (RFC 9110 §14.1.2). Several ranges, other units or a malformed
 * header give 'ignore' (answering 200 with the full body is always correct); a range past the end 'unsatisfiable'.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | 'ignore' | 'unsatisfiable' {
  if (value === undefined) return 'ignore';
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return 'ignore';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return 'ignore';
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** If-Range (§13.1.5): the range applies only when the validator matches the stored response strongly. */
export function ifRangeAllows(request: RawHeaders, stored: ResponseHead): boolean {
  const ifRange = getHeader(request, 'if-range');
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"')) return getHeader(stored.headers, 'etag')?.trim() === v;
  if (v.startsWith('W/')) return false;
  const date = httpDate(v);
  const lastModified = httpDate(getHeader(stored.headers, 'last-modified'));
  return date !== undefined && lastModified !== undefined && date === lastModified;
}

/** The head of a 206 (or 416) for a stored full response. */
export function partialHead(stored: ResponseHead, range: ByteRange | 'unsatisfiable', size: number): ResponseHead {
  const headers = removeHeader(removeHeader(stored.headers, 'content-length'), 'content-range');
  if (range === 'unsatisfiable') {
    return { status: 416, reason: 'Range Not Satisfiable', headers: [...headers, ['Content-Range', `bytes */${size}`], ['Content-Length', '0']] };
  }
  return {
    status: 206, reason: 'Partial Content',
    headers: [...headers, ['Content-Range', `bytes ${range.start}-${range.end}/${size}`], ['Content-Length', String(range.end - range.start + 1)]],
  };
}
