import type { RawHeaders } from '../core/flow.js';
import { getHeaderAll } from '../core/headers.js';

/**
 * Cache-Control directives (RFC 9111 §5.2) of one message, request or response. Field-name lists of `no-cache` and
 * `private` are kept lowercased; `true` means the unqualified form. Durations are seconds, as on the wire.
 */
export interface CacheControl {
  maxAge?: number;
  sMaxage?: number;
  maxStale?: number | true;
  minFresh?: number;
  noCache?: true | string[];
  noStore?: boolean;
  noTransform?: boolean;
  onlyIfCached?: boolean;
  private?: true | string[];
  public?: boolean;
  mustRevalidate?: boolean;
  proxyRevalidate?: boolean;
  mustUnderstand?: boolean;
  immutable?: boolean;
  staleWhileRevalidate?: number;
  staleIfError?: number;
}

/** One directive: `name`, `name=token` or `name="quoted, string"` (commas inside quotes do not split). */
const DIRECTIVE = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*)))?\s*(?:,|$)/y;

/** All Cache-Control field lines of the headers as one list of [name, value?] pairs, names lowercased. */
export function directivePairs(headers: RawHeaders): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  for (const line of getHeaderAll(headers, 'cache-control')) {
    DIRECTIVE.lastIndex = 0;
    while (DIRECTIVE.lastIndex < line.length) {
      const start = DIRECTIVE.lastIndex;
      const m = DIRECTIVE.exec(line);
      if (!m) {
        // Skip a malformed element up to the next comma rather than dropping the rest of the line.
        const comma = line.indexOf(',', start);
        if (comma < 0) break;
        DIRECTIVE.lastIndex = comma + 1;
        continue;
      }
      const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
      out.push([(m[1] as string).toLowerCase(), value]);
    }
  }
  return out;
}

/** delta-seconds (§1.2.2): digits only; invalid means "ignore the directive"; huge values saturate at 2^31. */
export function deltaSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Math.min(Number(value), 2 ** 31);
}

function fieldList(value: string | undefined): true | string[] {
  if (value === undefined || value.trim() === '') return true;
  return value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

type Apply = (cc: CacheControl, value: string | undefined) => void;

const seconds = (set: (cc: CacheControl, n: number) => void): Apply => (cc, value) => {
  const n = deltaSeconds(value);
  if (n !== undefined) set(cc, n);
};

/** The first occurrence of a duration wins; an invalid one is ignored (§4.2.1 "treat as stale" is left to callers). */
const APPLY: ReadonlyMap<string, Apply> = new Map(Object.entries({
  'max-age': seconds((cc, n) => { cc.maxAge ??= n; }),
  's-maxage': seconds((cc, n) => { cc.sMaxage ??= n; }),
  'min-fresh': seconds((cc, n) => { cc.minFresh ??= n; }),
  'stale-while-revalidate': seconds((cc, n) => { cc.staleWhileRevalidate ??= n; }),
  'stale-if-error': seconds((cc, n) => { cc.staleIfError ??= n; }),
  'max-stale': (cc, v) => { cc.maxStale ??= v === undefined ? true : deltaSeconds(v) ?? true; },
  'no-cache': (cc, v) => { cc.noCache = merge(cc.noCache, fieldList(v)); },
  'private': (cc, v) => { cc.private = merge(cc.private, fieldList(v)); },
  'no-store': (cc) => { cc.noStore = true; },
  'no-transform': (cc) => { cc.noTransform = true; },
  'only-if-cached': (cc) => { cc.onlyIfCached = true; },
  'public': (cc) => { cc.public = true; },
  'must-revalidate': (cc) => { cc.mustRevalidate = true; },
  'proxy-revalidate': (cc) => { cc.proxyRevalidate = true; },
  'must-understand': (cc) => { cc.mustUnderstand = true; },
  'immutable': (cc) => { cc.immutable = true; },
} satisfies Record<string, Apply>)); // a Map: a directive named "__proto__" or "constructor" is just unknown

function merge(a: true | string[] | undefined, b: true | string[]): true | string[] {
  if (a === true || b === true) return true;
  return [...(a ?? []), ...b];
}

/** Parses every Cache-Control line of a message; unknown extensions are ignored (§5.2.3). */
export function parseCacheControl(headers: RawHeaders): CacheControl {
  const cc: CacheControl = {};
  for (const [name, value] of directivePairs(headers)) APPLY.get(name)?.(cc, value);
  return cc;
}

/** `Pragma: no-cache` counts as request `no-cache` only when the request has no Cache-Control (§5.4). */
export function requestCacheControl(headers: RawHeaders): CacheControl {
  if (!hasCacheFields(headers)) return {}; // most requests: one pass over the names, no parsing
  const cc = parseCacheControl(headers);
  if (getHeaderAll(headers, 'cache-control').length === 0) {
    const pragma = getHeaderAll(headers, 'pragma').join(',').toLowerCase();
    if (/(^|,)\s*no-cache\s*(,|$)/.test(pragma)) cc.noCache = true;
  }
  return cc;
}

/** Whether any Cache-Control or Pragma field is present (names lowercased only when their length fits). */
function hasCacheFields(headers: RawHeaders): boolean {
  for (const [name] of headers) {
    const n = name.length;
    if (n === 13 ? name.toLowerCase() === 'cache-control' : n === 6 && name.toLowerCase() === 'pragma') return true;
  }
  return false;
}
