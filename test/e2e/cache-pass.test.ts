import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

let origin: Origin;
let proxy: TestProxy;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  // An uncacheable URL (no freshness, no validators) that takes 400 ms: concurrency at the origin is observable.
  origin = await startHttpOrigin((_req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('not cacheable');
    }, 400);
  });
  proxy = await startTestProxy();
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
});

describe('hit-for-pass', () => {
  it('concurrent requests for a URL known to be uncacheable are not serialised by coalescing', async () => {
    const url = `${origin.url}/slow-uncacheable`;
    expect((await curl(['-x', proxy.url, url])).status).toBe(200); // the first response marks the URL pass
    maxInFlight = 0;
    // A is in flight at the origin for 400 ms; B..F arrive meanwhile. With the pass they go straight to the origin
    // (6 in flight at once); coalescing alone would hold them until A's response arrived (at most 5 at once).
    const a = curl(['-x', proxy.url, url]);
    await new Promise((r) => setTimeout(r, 40));
    const rest = Array.from({ length: 5 }, () => curl(['-x', proxy.url, url]));
    const results = await Promise.all([a, ...rest]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(maxInFlight).toBe(6);
  });
});
