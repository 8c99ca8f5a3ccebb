import { describe, expect, it } from 'vitest';
import { parseCacheControl, requestCacheControl } from '../../../src/cache/cache-control.js';
import { isStorable, storedHeaders } from '../../../src/cache/cacheability.js';
import type { RawHeaders } from '../../../src/core/flow.js';

function storable(method: string, status: number, res: RawHeaders, req: RawHeaders = []): boolean | string {
  const r = isStorable({
    method, requestHeaders: req, requestCc: requestCacheControl(req),
    response: { status, headers: res }, responseCc: parseCacheControl(res),
  });
  return r.ok ? true : r.reason;
}

describe('RFC 9111 §3 storing responses (shared cache)', () => {
  const table: Array<[string, string, number, RawHeaders, RawHeaders, boolean | string]> = [
    ['GET 200, no directives (heuristically cacheable status)', 'GET', 200, [], [], true],
    ['POST is not stored', 'POST', 200, [['Cache-Control', 'max-age=60']], [], 'method'],
    ['HEAD responses are not stored (HEAD is served from a stored GET)', 'HEAD', 200, [], [], 'method'],
    ['302 without explicit freshness', 'GET', 302, [], [], 'status'],
    ['302 with max-age', 'GET', 302, [['Cache-Control', 'max-age=60']], [], true],
    ['307 with Expires', 'GET', 307, [['Expires', 'Thu, 01 Jan 2099 00:00:00 GMT']], [], true],
    ['500 with public', 'GET', 500, [['Cache-Control', 'public']], [], true],
    ['404 by default', 'GET', 404, [], [], true],
    ['206 never (partial content)', 'GET', 206, [['Cache-Control', 'max-age=60']], [], 'status'],
    ['304 is an update, not a store', 'GET', 304, [], [], 'status'],
    ['response no-store', 'GET', 200, [['Cache-Control', 'no-store, max-age=60']], [], 'no-store'],
    ['request no-store', 'GET', 200, [['Cache-Control', 'max-age=60']], [['Cache-Control', 'no-store']], 'request no-store'],
    ['must-understand overrides no-store for a known status', 'GET', 200, [['Cache-Control', 'must-understand, no-store, max-age=5']], [], true],
    ['must-understand with an unknown status', 'GET', 299, [['Cache-Control', 'must-understand, max-age=5']], [], 'must-understand'],
    ['private in a shared cache', 'GET', 200, [['Cache-Control', 'private, max-age=60']], [], 'private'],
    ['private="field" is storable (field dropped)', 'GET', 200, [['Cache-Control', 'private="Set-Cookie"']], [], true],
    ['Vary: * is never stored', 'GET', 200, [['Vary', 'Accept, *']], [], 'vary *'],
    ['§3.5 Authorization alone', 'GET', 200, [['Cache-Control', 'max-age=60']], [['Authorization', 'Basic eA==']], 'authorization'],
    ['§3.5 Authorization + public', 'GET', 200, [['Cache-Control', 'public']], [['Authorization', 'Basic eA==']], true],
    ['§3.5 Authorization + s-maxage', 'GET', 200, [['Cache-Control', 's-maxage=9']], [['Authorization', 'Basic eA==']], true],
    ['Set-Cookie is never shared', 'GET', 200, [['Cache-Control', 'public, max-age=60'], ['Set-Cookie', 'sid=1']], [], 'set-cookie'],
    ['Set-Cookie named by private= is dropped, the rest stored', 'GET', 200, [['Cache-Control', 'max-age=60, private="Set-Cookie"'], ['Set-Cookie', 'sid=1']], [], true],
    ['§3.5 Authorization + must-revalidate', 'GET', 200, [['Cache-Control', 'must-revalidate, max-age=9']], [['Authorization', 'Basic eA==']], true],
  ];
  it.each(table)('%s', (_name, method, status, res, req, expected) => {
    expect(storable(method, status, res, req)).toBe(expected);
  });

  it('drops fields named by private= and no-cache= before storing', () => {
    const res: RawHeaders = [['Set-Cookie', 'a=1'], ['X-Foo', '1'], ['ETag', '"x"'], ['Cache-Control', 'private="set-cookie", no-cache="X-Foo"']];
    expect(storedHeaders(res, parseCacheControl(res)).map(([n]) => n)).toEqual(['ETag', 'Cache-Control']);
  });
});
