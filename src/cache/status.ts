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
  const parts = [name];
  if (p.hit) parts.push('hit');
  if (p.fwd) parts.push(`fwd=${p.fwd}`);
  if (p.fwdStatus !== undefined) parts.push(`fwd-status=${p.fwdStatus}`);
  if (p.ttlS !== undefined) parts.push(`ttl=${p.ttlS}`);
  if (p.stored) parts.push('stored');
  if (p.collapsed) parts.push('collapsed');
  if (p.detail) parts.push(`detail=${/^[A-Za-z0-9._-]+$/.test(p.detail) ? p.detail : JSON.stringify(p.detail)}`);
  return parts.join('; ');
}

/** The head with this cache's member appended (RFC 9211: the member nearest the user comes last). */
export function withCacheStatus(head: ResponseHead, name: string, p: CacheStatusParams): ResponseHead {
  return { ...head, headers: [...head.headers, ['Cache-Status', cacheStatus(name, p)]] };
}
