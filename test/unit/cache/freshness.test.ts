import { describe, expect, it } from 'vitest';
import { parseCacheControl, requestCacheControl } from '../../../src/cache/cache-control.js';
import { currentAge, evaluate, freshnessLifetime, usableOnError, type Freshness } from '../../../src/cache/freshness.js';
import type { RawHeaders } from '../../../src/core/flow.js';

const T0 = Date.parse('Mon, 01 Jan 2024 00:00:00 GMT');
const date = (ms: number): string => new Date(ms).toUTCString();
const opts = { heuristicMaxMs: 24 * 3600_000 };

function lifetime(status: number, headers: RawHeaders, extra: { ttlCapMs?: number } = {}): number {
  return freshnessLifetime({ status, headers }, parseCacheControl(headers), { ...opts, ...extra }, T0);
}

describe('RFC 9111 §4.2.1 freshness lifetime (shared cache)', () => {
  const table: Array<[string, number, RawHeaders, number]> = [
    ['s-maxage beats max-age', 200, [['Cache-Control', 's-maxage=10, max-age=100']], 10_000],
    ['max-age beats Expires', 200, [['Cache-Control', 'max-age=20'], ['Date', date(T0)], ['Expires', date(T0 + 999_000)]], 20_000],
    ['Expires − Date', 200, [['Date', date(T0)], ['Expires', date(T0 + 30_000)]], 30_000],
    ['Expires without Date uses the response time', 200, [['Expires', date(T0 + 40_000)]], 40_000],
    ['invalid Expires means stale', 200, [['Expires', '0']], 0],
    ['Expires in the past', 200, [['Date', date(T0)], ['Expires', date(T0 - 5000)]], 0],
    ['§4.2.2 heuristic: 10% of Last-Modified age', 200, [['Date', date(T0)], ['Last-Modified', date(T0 - 1000_000)]], 100_000],
    ['heuristic capped', 200, [['Date', date(T0)], ['Last-Modified', date(T0 - 3650 * 86400_000)]], 24 * 3600_000],
    ['heuristic only for heuristically cacheable statuses', 302, [['Date', date(T0)], ['Last-Modified', date(T0 - 1000_000)]], 0],
    ['no heuristic without Last-Modified', 200, [['Date', date(T0)]], 0],
  ];
  it.each(table)('%s', (_n, status, headers, expected) => {
    expect(lifetime(status, headers)).toBe(expected);
  });
  it('a configured TTL cap bounds explicit lifetimes too', () => {
    expect(lifetime(200, [['Cache-Control', 'max-age=3600']], { ttlCapMs: 60_000 })).toBe(60_000);
  });
});

describe('RFC 9111 §4.2.3 current age', () => {
  const table: Array<[string, RawHeaders, number, number, number, number]> = [
    // name, headers, requestTime, responseTime, now, expected
    ['resident time only', [['Date', date(T0)]], T0, T0, T0 + 5000, 5000],
    ['Age field is added to the response delay', [['Date', date(T0)], ['Age', '10']], T0, T0 + 2000, T0 + 2000, 12_000],
    ['apparent age from a Date in the past', [['Date', date(T0 - 7000)]], T0, T0, T0, 7000],
    ['clock skew (Date in the future) never gives a negative age', [['Date', date(T0 + 60_000)]], T0, T0, T0, 0],
    ['invalid Age ignored', [['Date', date(T0)], ['Age', 'x']], T0, T0, T0 + 1000, 1000],
  ];
  it.each(table)('%s', (_n, headers, requestTime, responseTime, now, expected) => {
    expect(currentAge({ head: { status: 200, headers }, requestTime, responseTime }, now)).toBe(expected);
  });
});

function verdict(res: RawHeaders, req: RawHeaders, ageS: number): [Freshness, boolean] {
  const head = { status: 200, headers: [['Date', date(T0)] as [string, string], ...res] };
  const e = evaluate({
    head, requestTime: T0, responseTime: T0, responseCc: parseCacheControl(head.headers), requestCc: requestCacheControl(req),
    hasValidators: res.some(([n]) => n === 'ETag'),
  }, T0 + ageS * 1000, opts);
  return [e.freshness, e.stale];
}

const etag: [string, string] = ['ETag', '"v1"'];
describe('RFC 9111 §4 / §4.2.4 / §5.2 / RFC 5861: can the entry answer this request?', () => {
  const table: Array<[string, RawHeaders, RawHeaders, number, Freshness, boolean]> = [
    ['fresh', [['Cache-Control', 'max-age=60']], [], 10, 'fresh', false],
    ['stale with validators → revalidate', [['Cache-Control', 'max-age=60'], etag], [], 61, 'must-revalidate', true],
    ['stale without validators → unusable', [['Cache-Control', 'max-age=60']], [], 61, 'unusable', true],
    ['response no-cache always revalidates', [['Cache-Control', 'no-cache, max-age=60'], etag], [], 1, 'must-revalidate', false],
    ['response no-cache="f" does not', [['Cache-Control', 'no-cache="Set-Cookie", max-age=60']], [], 1, 'fresh', false],
    ['request no-cache', [['Cache-Control', 'max-age=60'], etag], [['Cache-Control', 'no-cache']], 1, 'must-revalidate', false],
    ['request Pragma: no-cache', [['Cache-Control', 'max-age=60'], etag], [['Pragma', 'no-cache']], 1, 'must-revalidate', false],
    ['request max-age exceeded', [['Cache-Control', 'max-age=60'], etag], [['Cache-Control', 'max-age=5']], 10, 'must-revalidate', false],
    ['request max-age=0 (reload) always revalidates', [['Cache-Control', 'max-age=60'], etag], [['Cache-Control', 'max-age=0']], 0, 'must-revalidate', false],
    ['request max-age within', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'max-age=50']], 10, 'fresh', false],
    ['request min-fresh not met', [['Cache-Control', 'max-age=60'], etag], [['Cache-Control', 'min-fresh=55']], 10, 'must-revalidate', false],
    ['request max-stale (any)', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'max-stale']], 600, 'fresh', true],
    ['request max-stale=N within', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'max-stale=10']], 65, 'fresh', true],
    ['request max-stale=N beyond', [['Cache-Control', 'max-age=60'], etag], [['Cache-Control', 'max-stale=10']], 75, 'must-revalidate', true],
    ['must-revalidate forbids max-stale', [['Cache-Control', 'max-age=60, must-revalidate'], etag], [['Cache-Control', 'max-stale']], 65, 'must-revalidate', true],
    ['proxy-revalidate forbids max-stale', [['Cache-Control', 'max-age=60, proxy-revalidate'], etag], [['Cache-Control', 'max-stale']], 65, 'must-revalidate', true],
    ['s-maxage implies proxy-revalidate', [['Cache-Control', 's-maxage=60'], etag], [['Cache-Control', 'max-stale']], 65, 'must-revalidate', true],
    ['stale-while-revalidate window', [['Cache-Control', 'max-age=60, stale-while-revalidate=30']], [], 80, 'stale-while-revalidate', true],
    ['past the stale-while-revalidate window', [['Cache-Control', 'max-age=60, stale-while-revalidate=30'], etag], [], 95, 'must-revalidate', true],
    ['stale-while-revalidate + must-revalidate', [['Cache-Control', 'max-age=60, stale-while-revalidate=30, must-revalidate'], etag], [], 70, 'must-revalidate', true],
  ];
  it.each(table)('%s', (_n, res, req, age, expected, stale) => {
    expect(verdict(res, req, age)).toEqual([expected, stale]);
  });
});

describe('RFC 5861 §4 stale-if-error', () => {
  const check = (res: string, req: RawHeaders, ageS: number): boolean => {
    const head = { status: 200, headers: [['Date', date(T0)], ['Cache-Control', res]] as RawHeaders };
    return usableOnError({ head, requestTime: T0, responseTime: T0, responseCc: parseCacheControl(head.headers), requestCc: requestCacheControl(req), hasValidators: false }, T0 + ageS * 1000, opts);
  };
  it('serves stale within the window', () => expect(check('max-age=10, stale-if-error=60', [], 50)).toBe(true));
  it('not beyond it', () => expect(check('max-age=10, stale-if-error=60', [], 80)).toBe(false));
  it('a request stale-if-error counts too', () => expect(check('max-age=10', [['Cache-Control', 'stale-if-error=100']], 80)).toBe(true));
  it('never with must-revalidate', () => expect(check('max-age=10, stale-if-error=60, must-revalidate', [], 20)).toBe(false));
});
