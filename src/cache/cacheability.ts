import type { RawHeaders, ResponseHead } from '../core/flow.js';
import { hasHeader } from '../core/headers.js';
import type { CacheControl } from './cache-control.js';
import { varyNames } from './key.js';

/** Status codes cacheable by default (RFC 9110 §15.1), minus 206: partial content is never stored here. */
export const HEURISTIC_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
/** Statuses whose semantics this cache knows, for `must-understand` (§5.2.2.3). */
const UNDERSTOOD_STATUS = new Set([...HEURISTIC_STATUS, 302, 303, 307]);

export interface StorableInput {
  readonly method: string;
  readonly requestHeaders: RawHeaders;
  readonly requestCc: CacheControl;
  readonly response: ResponseHead;
  readonly responseCc: CacheControl;
}

export type Storable = { ok: true } | { ok: false; reason: string };

const no = (reason: string): Storable => ({ ok: false, reason });

/**
 * RFC 9111 §3 for a shared cache: may this response be stored at all? (Freshness is decided separately.) Beyond the
 * RFC, a response that sets a cookie is not stored unless `private="Set-Cookie"` / `no-cache="Set-Cookie"` let us drop
 * it (§7.3's privacy warning; nginx and Varnish refuse such responses too): one user's session must not reach another.
 */
export function isStorable(i: StorableInput): Storable {
  const { response: res, responseCc: cc } = i;
  if (i.method !== 'GET') return no('method');
  if (res.status < 200 || res.status === 206 || res.status === 304) return no('status');
  const understood = cc.mustUnderstand === true && UNDERSTOOD_STATUS.has(res.status);
  if (i.requestCc.noStore) return no('request no-store');
  if (cc.noStore && !understood) return no('no-store');
  if (cc.mustUnderstand && !UNDERSTOOD_STATUS.has(res.status)) return no('must-understand');
  if (cc.private === true) return no('private');
  if (varyNames(res.headers) === '*') return no('vary *');
  if (hasHeader(i.requestHeaders, 'authorization') && !cc.public && cc.sMaxage === undefined && !cc.mustRevalidate) {
    return no('authorization');
  }
  if (!hasExplicitPermission(res, cc) && !HEURISTIC_STATUS.has(res.status)) return no('status');
  if (hasHeader(storedHeaders(res.headers, cc), 'set-cookie')) return no('set-cookie');
  return { ok: true };
}

/** §3 list: public, Expires, max-age, s-maxage (private was refused above for a shared cache). */
function hasExplicitPermission(res: ResponseHead, cc: CacheControl): boolean {
  return cc.public === true || cc.maxAge !== undefined || cc.sMaxage !== undefined || hasHeader(res.headers, 'expires');
}

/**
 * The header fields to keep in storage: `private="f"` and `no-cache="f"` name fields a shared cache must not reuse
 * without revalidation (§5.2.2.4, §5.2.2.7); dropping them is the conservative choice undici also makes.
 */
export function storedHeaders(headers: RawHeaders, cc: CacheControl): RawHeaders {
  const drop = new Set<string>();
  for (const list of [cc.private, cc.noCache]) if (Array.isArray(list)) for (const f of list) drop.add(f);
  if (drop.size === 0) return headers;
  return headers.filter(([name]) => !drop.has(name.toLowerCase()));
}
