import type { ResponseHead } from '../core/flow.js';

/** RFC 9211 Cache-Status parameters this cache reports. */
export interface CacheStatusParams {
  hit?: boolean;
  /** Why the request went forward: uri-miss, vary-miss, stale (revalidation), request (client no-cache), bypass. */
  fwd?: 'uri-miss' | 'vary-miss' | 'stale' | 'request' | 'bypass' | 'miss';
  fwdStatus?: number;
  stored?: boolean;
  collapsed?: boolean;
  /** Freshness remaining in seconds; negative when a stale response was served. */
  ttlS?: number;
  detail?: string;
}

/** One Cache-Status member, e.g. `portico; hit; ttl=376` or `portico; fwd=uri-miss; stored`. */
export function cacheStatus(name: string, p: CacheStatusParams): string {
  let s = name; // built by appending: this runs on every hit, and an array + join cost more than the string
  if (p.hit) s += '; hit';
  if (p.fwd) s += `; fwd=${p.fwd}`;
  if (p.fwdStatus !== undefined) s += `; fwd-status=${p.fwdStatus}`;
  if (p.ttlS !== undefined) s += `; ttl=${p.ttlS}`;
  if (p.stored) s += '; stored';
  if (p.collapsed) s += '; collapsed';
  if (p.detail) s += `; detail=${/^[A-Za-z0-9._-]+$/.test(p.detail) ? p.detail : JSON.stringify(p.detail)}`;
  return s;
}

/** The head with this cache's member appended (RFC 9211: the member nearest the user comes last). */
export function withCacheStatus(head: ResponseHead, name: string, p: CacheStatusParams): ResponseHead {
  return { ...head, headers: [...head.headers, ['Cache-Status', cacheStatus(name, p)]] };
}
