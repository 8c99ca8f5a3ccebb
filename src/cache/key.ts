import type { RawHeaders, ResponseHead } from '../core/flow.js';
import { getHeaderAll, headerTokens } from '../core/headers.js';

/**
 * The primary cache key (RFC 9111 §4): the target URI without fragment, independent of the method so HEAD finds a
 * stored GET. WHATWG URL already lowercases the host and drops default ports. `#` never occurs unencoded in a key,
 * so it separates a variant's secondary key.
 */
export function primaryKey(url: URL): string {
  const href = url.href;
  // The href is that already, unless it has a fragment, credentials or an empty query ("?"), which the key drops;
  // reading it spares four getters that each slice a new string, on every request the cache sees.
  if ((href.startsWith('http://') || href.startsWith('https://')) && !href.endsWith('?') && !href.includes('#') && !href.includes('@')) {
    return href;
  }
  return `${url.protocol}//${url.host}${url.pathname}${url.search}`;
}

/** Lowercased field names of Vary, or '*' (§4.1: never matches). */
export function varyNames(headers: RawHeaders): string[] | '*' {
  const names = headerTokens(headers, 'vary');
  if (names.includes('*')) return '*';
  return [...new Set(names)].sort();
}

/** A field's value normalised for Vary matching: lines joined, whitespace around commas collapsed (§4.1). */
function normalized(headers: RawHeaders, name: string): string | undefined {
  const lines = getHeaderAll(headers, name);
  if (lines.length === 0) return undefined;
  return lines.join(',').split(',').map((s) => s.trim().replace(/\s+/g, ' ')).join(',');
}

/** The selecting request fields to keep with an entry: [name, value] for each Vary name present in the request. */
export function selectingHeaders(names: readonly string[], request: RawHeaders): RawHeaders {
  const out: RawHeaders = [];
  for (const name of names) {
    const v = normalized(request, name);
    if (v !== undefined) out.push([name, v]);
  }
  return out;
}

/** Does a new request select a stored variant? Absent must match absent; `Vary: *` never matches. */
export function varyMatches(response: ResponseHead, stored: RawHeaders, request: RawHeaders): boolean {
  const names = storedVaryNames(response);
  if (names === '*') return false;
  for (const name of names) {
    const had = stored.find(([n]) => n === name)?.[1];
    if (had !== normalized(request, name)) return false;
  }
  return true;
}

/** varyNames of a stored head, once per head: a memory-store entry is matched on every hit and never changes. */
const storedNames = new WeakMap<ResponseHead, string[] | '*'>();
function storedVaryNames(head: ResponseHead): string[] | '*' {
  let names = storedNames.get(head);
  if (names === undefined) storedNames.set(head, (names = varyNames(head.headers)));
  return names;
}

/** The store key of one variant: primary key + the selecting values (JSON keeps the encoding unambiguous). */
export function variantKey(primary: string, names: readonly string[], request: RawHeaders): string {
  return `${primary}#${JSON.stringify(selectingHeaders(names, request))}`;
}
