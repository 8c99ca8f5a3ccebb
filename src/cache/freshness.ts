import type { ResponseHead } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import type { CacheControl } from './cache-control.js';
import { HEURISTIC_STATUS } from './cacheability.js';

/** DESIGN's verdict on a stored response for one request. */
export type Freshness = 'fresh' | 'stale-while-revalidate' | 'must-revalidate' | 'unusable';

export interface FreshnessOptions {
  /** Upper bound of heuristic freshness (10% of the Last-Modified age). */
  readonly heuristicMaxMs: number;
  /** Optional cap on every freshness lifetime, explicit or heuristic. */
  readonly ttlCapMs?: number | undefined;
}

/** HTTP-date (RFC 9110 §5.6.7) to epoch ms; undefined when invalid. */
export function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** §4.2.1 freshness lifetime in ms, in a shared cache: s-maxage > max-age > Expires − Date > heuristic (§4.2.2). */
export function freshnessLifetime(res: ResponseHead, cc: CacheControl, opts: FreshnessOptions, responseTime: number): number {
  const cap = (ms: number): number => Math.max(0, opts.ttlCapMs === undefined ? ms : Math.min(ms, opts.ttlCapMs));
  if (cc.sMaxage !== undefined) return cap(cc.sMaxage * 1000);
  if (cc.maxAge !== undefined) return cap(cc.maxAge * 1000);
  const date = httpDate(getHeader(res.headers, 'date')) ?? responseTime;
  const expiresField = getHeader(res.headers, 'expires');
  if (expiresField !== undefined) {
    const expires = httpDate(expiresField);
    return expires === undefined ? 0 : cap(expires - date); // an invalid Expires means "already expired"
  }
  const lastModified = httpDate(getHeader(res.headers, 'last-modified'));
  if (lastModified === undefined || !HEURISTIC_STATUS.has(res.status) || cc.noCache !== undefined) return 0;
  return cap(Math.min(Math.max(0, (date - lastModified) / 10), opts.heuristicMaxMs));
}

export interface AgeInput {
  readonly head: ResponseHead;
  /** Wall-clock ms when the request that produced the stored response was sent / its response received. */
  readonly requestTime: number;
  readonly responseTime: number;
}

/** §4.2.3 current_age in ms. */
export function currentAge(entry: AgeInput, now: number): number {
  return correctedInitialAge(entry) + Math.max(0, now - entry.responseTime);
}

/** §4.2.3 corrected_initial_age in ms: the part of current_age fixed when the response was stored. */
export function correctedInitialAge(entry: AgeInput): number {
  const dateValue = httpDate(getHeader(entry.head.headers, 'date')) ?? entry.responseTime;
  const ageField = Number(getHeader(entry.head.headers, 'age') ?? '0');
  const ageValue = Number.isFinite(ageField) && ageField > 0 ? ageField * 1000 : 0;
  const apparentAge = Math.max(0, entry.responseTime - dateValue);
  const responseDelay = Math.max(0, entry.responseTime - entry.requestTime);
  return Math.max(apparentAge, ageValue + responseDelay);
}

export interface Evaluation {
  readonly freshness: Freshness;
  readonly ageMs: number;
  readonly lifetimeMs: number;
  /** lifetime − age: negative once stale (Cache-Status ttl). */
  readonly ttlMs: number;
  /** Served although past its lifetime (client max-stale or stale-while-revalidate). */
  readonly stale: boolean;
}

export interface EvaluateInput extends AgeInput {
  readonly responseCc: CacheControl;
  readonly requestCc: CacheControl;
  readonly hasValidators: boolean;
}

/** May this stored response answer this request now (§4, §4.2.4, RFC 5861)? */
export function evaluate(i: EvaluateInput, now: number, opts: FreshnessOptions): Evaluation {
  return evaluateAged(i, currentAge(i, now), freshnessLifetime(i.head, i.responseCc, opts, i.responseTime));
}

/**
 * evaluate() with the age and lifetime already known: a stored entry's lifetime and initial age never change, so the
 * cache stage derives them once per entry (cache.ts entryMeta) instead of parsing Date on every hit.
 */
export function evaluateAged(i: Pick<EvaluateInput, 'responseCc' | 'requestCc' | 'hasValidators'>, ageMs: number, lifetimeMs: number): Evaluation {
  const ttlMs = lifetimeMs - ageMs;
  const req = i.requestCc;
  const revalidate = i.hasValidators ? 'must-revalidate' : 'unusable';
  if (req.noCache !== undefined || i.responseCc.noCache === true) return result(revalidate, ageMs, lifetimeMs, ttlMs <= 0);
  // max-age=0 is what browsers send on reload: revalidate even an entry of age 0 (as Squid does).
  if (req.maxAge !== undefined && (ageMs > req.maxAge * 1000 || req.maxAge === 0)) return result(revalidate, ageMs, lifetimeMs, ttlMs <= 0);
  if (req.minFresh !== undefined && ttlMs < req.minFresh * 1000) return result(revalidate, ageMs, lifetimeMs, ttlMs <= 0);
  if (ttlMs > 0) return result('fresh', ageMs, lifetimeMs, false);
  if (!mayServeStale(i.responseCc)) return result(revalidate, ageMs, lifetimeMs, true);
  const staleness = -ttlMs;
  if (req.maxStale === true || (req.maxStale !== undefined && staleness <= req.maxStale * 1000)) {
    return result('fresh', ageMs, lifetimeMs, true);
  }
  const swr = i.responseCc.staleWhileRevalidate;
  if (swr !== undefined && staleness < swr * 1000 && req.maxAge === undefined && req.minFresh === undefined) {
    return result('stale-while-revalidate', ageMs, lifetimeMs, true);
  }
  return result(revalidate, ageMs, lifetimeMs, true);
}

/** One Evaluation shape for every outcome (evaluate runs on every hit: no spread copies). */
function result(freshness: Freshness, ageMs: number, lifetimeMs: number, stale: boolean): Evaluation {
  return { freshness, ageMs, lifetimeMs, ttlMs: lifetimeMs - ageMs, stale };
}

/** must-revalidate, proxy-revalidate and (in a shared cache) s-maxage forbid serving stale (§5.2.2.2, .8, .10). */
export function mayServeStale(cc: CacheControl): boolean {
  return !cc.mustRevalidate && !cc.proxyRevalidate && cc.sMaxage === undefined;
}

/** RFC 5861 §4: may a stale entry answer when the origin failed (error or 5xx)? Request stale-if-error counts too. */
export function usableOnError(i: EvaluateInput, now: number, opts: FreshnessOptions): boolean {
  if (!mayServeStale(i.responseCc)) return false;
  const window = i.requestCc.staleIfError ?? i.responseCc.staleIfError;
  if (window === undefined) return false;
  const ttlMs = freshnessLifetime(i.head, i.responseCc, opts, i.responseTime) - currentAge(i, now);
  return -ttlMs <= window * 1000;
}

/**
 * How long to keep an entry in the store: its freshness, plus whichever stale window may still use it
 * (stale-while-revalidate, stale-if-error), plus `keepForRevalidationMs` when it has validators.
 */
export function storageTtl(lifetimeMs: number, cc: CacheControl, hasValidators: boolean, keepForRevalidationMs: number): number {
  const windows = Math.max((cc.staleWhileRevalidate ?? 0) * 1000, (cc.staleIfError ?? 0) * 1000, hasValidators ? keepForRevalidationMs : 0);
  return lifetimeMs + windows;
}
