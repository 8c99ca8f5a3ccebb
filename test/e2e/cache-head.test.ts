import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHitTtl, flowWatch, startCountingOrigin, viaProxy, type CountingOrigin } from '../helpers/cache-origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

let origin: CountingOrigin;
let proxy: TestProxy;
let seq = 0;
const path = (name: string): string => `/head-${name}-${++seq}`;

beforeAll(async () => {
  origin = await startCountingOrigin();
  proxy = await startTestProxy({ cache: { store: 'memory', maxObjectBytes: 64 * 1024 } });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
});

const { cacheNote, ended } = flowWatch(() => proxy);

/**
 * An origin that ignores conditionals (as many do for HEAD): GET always sends the body with max-age=0 (stored for
 * revalidation thanks to its ETag), HEAD answers with whatever `head()` says for the current call.
 */
function routeWithHead(p: string, head: () => Record<string, string>): void {
  origin.route(p, (req, res, n) => {
    if (req.method === 'HEAD') return void res.writeHead(200, head()).end();
    res.writeHead(200, { ETag: '"v1"', 'Cache-Control': 'max-age=0', 'Content-Type': 'text/plain', 'Content-Length': '8', 'X-Version': `get-${n}` }).end('original');
  });
}

describe('HEAD responses freshen stored GETs through the forward proxy (RFC 9111 §4.3.5)', () => {
  it('a HEAD with the same ETag and length updates the stored headers; the next GET is a hit with them', async () => {
    const p = path('update');
    routeWithHead(p, () => ({ ETag: '"v1"', 'Content-Length': '8', 'Cache-Control': 'max-age=60', 'X-Version': 'head' }));
    await viaProxy(proxy.url, origin.url + p);
    await ended(origin.url + p, 1);
    const refreshedAfter = Date.now();
    const h = await viaProxy(proxy.url, origin.url + p, { method: 'HEAD' });
    expect(h.headers['cache-status']).toBe('portico; fwd=stale; fwd-status=200; detail=head-refreshed');
    expect(await cacheNote(origin.url + p, 1)).toBe('revalidated');
    const g = await viaProxy(proxy.url, origin.url + p);
    expect(g.body.toString()).toBe('original');
    expect(g.headers['x-version']).toBe('head');
    expectHitTtl(g.headers['cache-status'], 60, refreshedAfter);
    expect(origin.hits(p)).toBe(2); // the GET and the HEAD; the last GET never reached the origin
  });

  it('a HEAD with another ETag drops the stored GET; the next GET is a plain miss (no If-None-Match)', async () => {
    const p = path('etag');
    routeWithHead(p, () => ({ ETag: '"v2"', 'Content-Length': '8' }));
    await viaProxy(proxy.url, origin.url + p);
    await ended(origin.url + p, 1);
    const h = await viaProxy(proxy.url, origin.url + p, { method: 'HEAD' });
    expect(h.headers['cache-status']).toBe('portico; fwd=stale; fwd-status=200; detail=head-invalidated');
    await ended(origin.url + p, 2);
    const g = await viaProxy(proxy.url, origin.url + p);
    expect(g.headers['cache-status']).toBe('portico; fwd=uri-miss; fwd-status=200; stored');
    expect(origin.last(p)?.['if-none-match']).toBeUndefined();
    expect(origin.hits(p)).toBe(3);
  });

  it('a HEAD with the same ETag but another Content-Length drops the stored GET too', async () => {
    const p = path('length');
    routeWithHead(p, () => ({ ETag: '"v1"', 'Content-Length': '12' }));
    await viaProxy(proxy.url, origin.url + p);
    await ended(origin.url + p, 1);
    const h = await viaProxy(proxy.url, origin.url + p, { method: 'HEAD' });
    expect(h.headers['cache-status']).toContain('detail=head-invalidated');
    expect(await cacheNote(origin.url + p, 1)).toBe('miss');
    await viaProxy(proxy.url, origin.url + p);
    expect(origin.last(p)?.['if-none-match']).toBeUndefined();
  });

  it('a client HEAD with no-cache on a fresh entry also refreshes it', async () => {
    const p = path('nocache');
    origin.route(p, (req, res, n) => {
      if (req.method === 'HEAD') return void res.writeHead(200, { ETag: '"v1"', 'Cache-Control': 'max-age=60', 'X-Version': `head-${n}` }).end();
      res.writeHead(200, { ETag: '"v1"', 'Cache-Control': 'max-age=60', 'Content-Length': '8', 'X-Version': `get-${n}` }).end('original');
    });
    await viaProxy(proxy.url, origin.url + p);
    await ended(origin.url + p, 1);
    await viaProxy(proxy.url, origin.url + p, { method: 'HEAD', headers: { 'Cache-Control': 'no-cache' } });
    await ended(origin.url + p, 2);
    const g = await viaProxy(proxy.url, origin.url + p);
    expect([g.headers['x-version'], g.body.toString(), origin.hits(p)]).toEqual(['head-2', 'original', 2]);
  });
});
