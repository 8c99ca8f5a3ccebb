import { describe, expect, it } from 'vitest';
import { primaryKey, selectingHeaders, varyMatches, varyNames, variantKey } from '../../../src/cache/key.js';
import { clientNotModified, freshenHead, notModifiedHead, notModifiedMatches, revalidationHeaders } from '../../../src/cache/validators.js';
import { invalidationTargets } from '../../../src/cache/invalidation.js';
import { ifRangeAllows, parseRange, partialHead } from '../../../src/cache/range.js';
import type { RawHeaders, ResponseHead } from '../../../src/core/flow.js';

describe('RFC 9111 §4 primary key', () => {
  it.each([
    ['http://Example.COM:80/a?b=1#frag', 'http://example.com/a?b=1'],
    ['https://example.com:443/', 'https://example.com/'],
    ['https://example.com:8443/x', 'https://example.com:8443/x'],
    ['http://[::1]:8080/p', 'http://[::1]:8080/p'],
  ])('%s → %s', (url, key) => expect(primaryKey(new URL(url))).toBe(key));
  it('http and https are different keys', () => {
    expect(primaryKey(new URL('http://a/x'))).not.toBe(primaryKey(new URL('https://a/x')));
  });
  // primaryKey answers most URLs with their href: it must equal the field-by-field key for every shape of URL.
  it.each([
    'http://a/x', 'http://a/x?', 'http://a/x?q', 'http://a/x?q?', 'http://a/x#', 'http://a/x#f', 'http://a/x?#f',
    'http://u@a/x', 'http://u:p@a/x', 'http://:p@a/x', 'http://a/u@b?c@d', 'https://a:8443/%23?%40', 'http://a',
    'http://a/x y?z w', 'http://A.B:80/../c/./d', 'ws://a/x', 'http://[::1]/x?', 'http://xn--nxasmq6b/ü?ä=1',
  ])('%s: the href fast path gives protocol//host pathname search', (url) => {
    const u = new URL(url);
    expect(primaryKey(u)).toBe(`${u.protocol}//${u.host}${u.pathname}${u.search}`);
  });
});

describe('RFC 9111 §4.1 Vary', () => {
  const res = (vary: string): ResponseHead => ({ status: 200, headers: [['Vary', vary]] });
  const table: Array<[string, string, RawHeaders, RawHeaders, boolean]> = [
    ['same value', 'Accept-Encoding', [['Accept-Encoding', 'gzip']], [['accept-encoding', 'gzip']], true],
    ['different value', 'Accept-Encoding', [['Accept-Encoding', 'gzip']], [['Accept-Encoding', 'br']], false],
    ['absent matches absent', 'Accept-Language', [], [], true],
    ['absent does not match present', 'Accept-Language', [], [['Accept-Language', 'de']], false],
    ['whitespace and line folding are normalised', 'Accept', [['Accept', 'a/b,  c/d']], [['Accept', 'a/b'], ['Accept', 'c/d']], true],
    ['several names, one differs', 'Accept, Accept-Encoding', [['Accept', 'x'], ['Accept-Encoding', 'gzip']], [['Accept', 'x'], ['Accept-Encoding', 'br']], false],
    ['Vary: * never matches', '*', [], [], false],
  ];
  it.each(table)('%s', (_n, vary, original, next, expected) => {
    const names = varyNames([['Vary', vary]]);
    const stored = names === '*' ? [] : selectingHeaders(names, original);
    expect(varyMatches(res(vary), stored, next)).toBe(expected);
  });
  it('variant keys differ by selecting values and ignore unrelated fields', () => {
    const a = variantKey('k', ['accept-encoding'], [['Accept-Encoding', 'gzip'], ['X', '1']]);
    expect(variantKey('k', ['accept-encoding'], [['accept-encoding', 'gzip'], ['X', '2']])).toBe(a);
    expect(variantKey('k', ['accept-encoding'], [['Accept-Encoding', 'br']])).not.toBe(a);
    expect(a.startsWith('k#')).toBe(true);
  });
});

describe('RFC 9111 §4.3 validation', () => {
  const stored: ResponseHead = { status: 200, headers: [['ETag', '"v1"'], ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['Content-Length', '5'], ['Cache-Control', 'max-age=1'], ['X-Old', 'o']] };
  it('§4.3.1 sends the stored validators in place of the client preconditions', () => {
    const h = revalidationHeaders([['If-None-Match', '"client"'], ['Accept', '*/*']], stored);
    expect(h).toEqual([['Accept', '*/*'], ['If-None-Match', '"v1"'], ['If-Modified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT']]);
  });
  it('§3.2 a 304 replaces stored fields but not Content-Length', () => {
    const h = freshenHead(stored, { status: 304, headers: [['Cache-Control', 'max-age=100'], ['Content-Length', '0'], ['X-New', 'n']] });
    expect(h.status).toBe(200);
    expect(h.headers).toEqual([['ETag', '"v1"'], ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['Content-Length', '5'], ['X-Old', 'o'], ['Cache-Control', 'max-age=100'], ['X-New', 'n']]);
  });
  it('§4.3.4 a 304 with another strong ETag does not describe the stored response', () => {
    expect(notModifiedMatches(stored, { status: 304, headers: [['ETag', '"v2"']] })).toBe(false);
    expect(notModifiedMatches(stored, { status: 304, headers: [['ETag', 'W/"v1"']] })).toBe(true);
    expect(notModifiedMatches(stored, { status: 304, headers: [] })).toBe(true);
  });
  const table: Array<[string, RawHeaders, boolean]> = [
    ['If-None-Match matches', [['If-None-Match', '"x", "v1"']], true],
    ['If-None-Match weak comparison', [['If-None-Match', 'W/"v1"']], true],
    ['If-None-Match *', [['If-None-Match', '*']], true],
    ['If-None-Match differs', [['If-None-Match', '"v2"']], false],
    ['If-Modified-Since at Last-Modified', [['If-Modified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT']], true],
    ['If-Modified-Since before Last-Modified', [['If-Modified-Since', 'Sun, 31 Dec 2023 00:00:00 GMT']], false],
    ['If-None-Match takes precedence over If-Modified-Since', [['If-None-Match', '"v2"'], ['If-Modified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT']], false],
    ['no precondition', [], false],
  ];
  it.each(table)('client conditional: %s', (_n, req, expected) => expect(clientNotModified(req, stored)).toBe(expected));
  it('a 304 keeps only the metadata fields', () => {
    expect(notModifiedHead(stored).headers.map(([n]) => n)).toEqual(['ETag', 'Last-Modified', 'Cache-Control']);
  });
});

describe('RFC 9111 §4.4 invalidation', () => {
  const u = new URL('http://a.example/p');
  it.each([
    ['POST 200 invalidates the URI', 'POST', 200, [], ['http://a.example/p']],
    ['PUT 201 with same-origin Location and Content-Location', 'PUT', 201, [['Location', '/q'], ['Content-Location', 'http://a.example/r']], ['http://a.example/p', 'http://a.example/q', 'http://a.example/r']],
    ['cross-origin Location is ignored', 'DELETE', 204, [['Location', 'http://b.example/q']], ['http://a.example/p']],
    ['an error response invalidates nothing', 'POST', 500, [], []],
    ['safe methods invalidate nothing', 'GET', 200, [], []],
  ] as Array<[string, string, number, RawHeaders, string[]]>)('%s', (_n, method, status, headers, expected) => {
    expect(invalidationTargets(method, u, status, headers).map((x) => x.href)).toEqual(expected);
  });
});

describe('RFC 9110 §14 ranges over a stored full response', () => {
  it.each([
    ['bytes=0-4', 10, { start: 0, end: 4 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=8-100', 10, { start: 8, end: 9 }],
    ['bytes=10-', 10, 'unsatisfiable'],
    ['bytes=0-1,3-4', 10, 'ignore'],
    ['items=0-1', 10, 'ignore'],
    ['bytes=5-2', 10, 'ignore'],
  ] as Array<[string, number, unknown]>)('%s of %i bytes', (h, size, expected) => expect(parseRange(h, size)).toEqual(expected));
  it('If-Range needs a strong match', () => {
    const head: ResponseHead = { status: 200, headers: [['ETag', '"v1"']] };
    expect(ifRangeAllows([['If-Range', '"v1"']], head)).toBe(true);
    expect(ifRangeAllows([['If-Range', '"v2"']], head)).toBe(false);
    expect(ifRangeAllows([['If-Range', 'W/"v1"']], head)).toBe(false);
  });
  it('builds Content-Range', () => {
    const h = partialHead({ status: 200, headers: [['Content-Length', '10']] }, { start: 2, end: 3 }, 10);
    expect(h.status).toBe(206);
    expect(h.headers).toEqual([['Content-Range', 'bytes 2-3/10'], ['Content-Length', '2']]);
  });
});
