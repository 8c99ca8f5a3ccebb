import picomatch from 'picomatch';
import { getDomain } from 'tldts';
import type { RawHeaders } from '../core/flow.js';
import { getHeader, removeHeader, setHeader } from '../core/headers.js';
import type { Profile } from '../policy/model.js';

export interface AnonymizeOptions {
  readonly userAgent: string;
  readonly trackingParams: readonly string[];
  /** RFC 7239 Forwarded + X-Forwarded-For under `off`. */
  readonly forwarded: boolean;
  /** Our Via pseudonym: its elements are kept, they are how forwarding loops are detected. */
  readonly pseudonym: string;
}

/** What one request looks like to the anonymizer; `tracker` names the tracker category of the host, if any. */
export interface AnonymizeInput {
  readonly headers: RawHeaders;
  readonly url: URL;
  readonly clientIp: string;
  readonly tracker: string | undefined;
}

export interface Anonymized { headers: RawHeaders; changes: string[] }

const IDENTITY = ['X-Forwarded-For', 'Forwarded', 'X-Real-IP'];
const STRICT_REMOVED = [...IDENTITY, 'From'];

/** Compiled once per config: `isTrackingParam('utm_source')`. */
export function trackingParamMatcher(globs: readonly string[]): (name: string) => boolean {
  return globs.length > 0 ? picomatch([...globs], { nocase: true }) : () => false;
}

/** Pure: the request headers a profile lets through, and a line per change ("removed X-Forwarded-For"). */
export function anonymizeRequestHeaders(input: AnonymizeInput, profile: Profile, opts: AnonymizeOptions): Anonymized {
  const out: Anonymized = { headers: input.headers, changes: [] };
  if (profile === 'off') return opts.forwarded ? addForwarded(out, input) : out;
  for (const name of profile === 'strict' ? STRICT_REMOVED : IDENTITY) remove(out, name);
  stripVia(out, opts.pseudonym, profile === 'strict');
  if (profile === 'standard') return out;
  if (getHeader(out.headers, 'user-agent') !== opts.userAgent) {
    out.headers = setHeader(out.headers, 'User-Agent', opts.userAgent);
    out.changes.push('replaced User-Agent');
  }
  crossSiteReferer(out, input.url);
  if (input.tracker !== undefined) remove(out, 'Cookie', ` (tracker category ${input.tracker})`);
  for (const [name, value] of [['DNT', '1'], ['Sec-GPC', '1']] as const) {
    if (getHeader(out.headers, name) === value) continue;
    out.headers = setHeader(out.headers, name, value);
    out.changes.push(`added ${name}: ${value}`);
  }
  return out;
}

/** Pure: `strict` drops Set-Cookie from hosts in tracker categories. */
export function anonymizeResponseHeaders(headers: RawHeaders, profile: Profile, tracker: string | undefined): Anonymized {
  const out: Anonymized = { headers, changes: [] };
  if (profile === 'strict' && tracker !== undefined) remove(out, 'Set-Cookie', ` (tracker category ${tracker})`);
  return out;
}

/** Pure: removes tracking query parameters in place; the names removed. */
export function stripTrackingParams(url: URL, isTracking: (name: string) => boolean): string[] {
  if (url.search === '') return [];
  const removed = [...new Set([...url.searchParams.keys()].filter(isTracking))];
  for (const name of removed) url.searchParams.delete(name);
  return removed;
}

function remove(out: Anonymized, name: string, why = ''): void {
  if (getHeader(out.headers, name) === undefined) return;
  out.headers = removeHeader(out.headers, name);
  out.changes.push(`removed ${name}${why}`);
}

/**
 * Via elements whose received-by is a host name or address (`1.1 squid.corp.internal`, `1.1 10.0.0.3:3128`) reveal
 * the inside network: `standard` removes those and keeps pseudonyms (`1.1 child`), `strict` removes every element but
 * ours (loop detection needs it).
 */
function stripVia(out: Anonymized, pseudonym: string, all: boolean): void {
  if (getHeader(out.headers, 'via') === undefined) return; // most requests: no copy of every field
  const mine = pseudonym.toLowerCase();
  let changed = false;
  const kept: RawHeaders = [];
  for (const [name, value] of out.headers) {
    if (name.toLowerCase() !== 'via') {
      kept.push([name, value]);
      continue;
    }
    const ours = value.split(',').map((e) => e.trim()).filter((e) => {
      const by = e.split(/\s+/)[1]?.toLowerCase() ?? '';
      return by === mine || (!all && by !== '' && !/[.:]/.test(by));
    });
    if (ours.length > 0) kept.push([name, ours.join(', ')]);
    changed ||= ours.length === 0 || ours.join(', ') !== value;
  }
  if (!changed) return;
  out.headers = kept;
  out.changes.push('removed Via');
}

/** Same site = same registrable domain (tldts: `a.example.co.uk` ~ `example.co.uk`); IPs and single names compare whole. */
function crossSiteReferer(out: Anonymized, target: URL): void {
  const referer = getHeader(out.headers, 'referer');
  if (referer === undefined) return;
  let from: string;
  try {
    from = new URL(referer).hostname;
  } catch {
    from = '';
  }
  const site = (host: string): string => getDomain(host) ?? host;
  if (from !== '' && site(from) === site(target.hostname)) return;
  out.headers = removeHeader(out.headers, 'referer');
  out.changes.push(`removed Referer (cross-site: ${from || 'unparsable'} → ${target.hostname})`);
}

function addForwarded(out: Anonymized, input: AnonymizeInput): Anonymized {
  const ip = input.clientIp.includes(':') ? `"[${input.clientIp}]"` : input.clientIp;
  const proto = input.url.protocol.replace(':', '');
  const prev = getHeader(out.headers, 'forwarded');
  out.headers = setHeader(out.headers, 'Forwarded', `${prev ? `${prev}, ` : ''}for=${ip};proto=${proto}`);
  const xff = getHeader(out.headers, 'x-forwarded-for');
  out.headers = setHeader(out.headers, 'X-Forwarded-For', xff ? `${xff}, ${input.clientIp}` : input.clientIp);
  out.changes.push('added Forwarded', 'added X-Forwarded-For');
  return out;
}
