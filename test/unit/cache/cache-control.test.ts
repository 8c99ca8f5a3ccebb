import { describe, expect, it } from 'vitest';
import { parseCacheControl, requestCacheControl, type CacheControl } from '../../../src/cache/cache-control.js';
import type { RawHeaders } from '../../../src/core/flow.js';

const cc = (...lines: string[]): RawHeaders => lines.map((l) => ['Cache-Control', l]);

describe('RFC 9111 §5.2 Cache-Control parsing', () => {
  const table: Array<[string, RawHeaders, CacheControl]> = [
    ['max-age', cc('max-age=60'), { maxAge: 60 }],
    ['case-insensitive names, spaces', cc(' Max-Age = 60 , PUBLIC'), { maxAge: 60, public: true }],
    ['quoted delta', cc('max-age="30"'), { maxAge: 30 }],
    ['first duplicate wins', cc('max-age=10, max-age=20'), { maxAge: 10 }],
    ['invalid delta ignored', cc('max-age=-1, s-maxage=abc'), {}],
    ['huge delta saturates', cc('max-age=99999999999999'), { maxAge: 2 ** 31 }],
    ['s-maxage', cc('s-maxage=5, max-age=1'), { sMaxage: 5, maxAge: 1 }],
    ['several lines join', cc('no-store', 'must-revalidate'), { noStore: true, mustRevalidate: true }],
    ['no-cache plain', cc('no-cache'), { noCache: true }],
    ['no-cache field list keeps commas in quotes', cc('no-cache="Set-Cookie, X-Foo", max-age=3'), { noCache: ['set-cookie', 'x-foo'], maxAge: 3 }],
    ['private field list', cc('private="Authorization"'), { private: ['authorization'] }],
    ['private plain beats list', cc('private="a", private'), { private: true }],
    ['quoted escapes', cc('no-cache="a\\"b"'), { noCache: ['a"b'] }],
    ['request directives', cc('max-stale, min-fresh=7, only-if-cached, no-transform'), { maxStale: true, minFresh: 7, onlyIfCached: true, noTransform: true }],
    ['max-stale with value', cc('max-stale=9'), { maxStale: 9 }],
    ['RFC 5861', cc('max-age=1, stale-while-revalidate=30, stale-if-error=600'), { maxAge: 1, staleWhileRevalidate: 30, staleIfError: 600 }],
    ['proxy-revalidate, immutable, must-understand', cc('proxy-revalidate, immutable, must-understand'), { proxyRevalidate: true, immutable: true, mustUnderstand: true }],
    ['unknown extensions ignored', cc('foo, bar="baz, qux", max-age=2'), { maxAge: 2 }],
    ['prototype names are unknown directives, not crashes', cc('__proto__, constructor, toString=1, max-age=4'), { maxAge: 4 }],
    ['garbage element skipped', cc('max-age=5, =oops, public'), { maxAge: 5, public: true }],
    ['empty', cc(''), {}],
  ];
  it.each(table)('%s', (_name, headers, expected) => {
    expect(parseCacheControl(headers)).toEqual(expected);
  });
});

describe('RFC 9111 §5.4 Pragma', () => {
  it('Pragma: no-cache means no-cache without Cache-Control', () => {
    expect(requestCacheControl([['Pragma', 'no-cache']])).toEqual({ noCache: true });
  });
  it('is ignored when Cache-Control is present', () => {
    expect(requestCacheControl([['Pragma', 'no-cache'], ['Cache-Control', 'max-age=5']])).toEqual({ maxAge: 5 });
  });
  it('other Pragma values mean nothing', () => {
    expect(requestCacheControl([['Pragma', 'x-no-cache-please']])).toEqual({});
  });
});
