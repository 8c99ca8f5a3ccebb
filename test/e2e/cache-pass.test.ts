import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';

let origin: Origin;
let proxy: TestProxy;
let inFlight = 0;
/** While set, the origin holds its answers here instead of sending them. */
let held: Array<() => void> | undefined;

beforeAll(async () => {
  // An uncacheable URL (no freshness, no validators): concurrency at the origin is observable.
  origin = await startHttpOrigin((_req, res) => {
    inFlight++;
    const answer = (): void => {
      inFlight--;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('not cacheable');
    };
    if (held) held.push(answer);
    else answer();
  });
  // Coalescing that ignored the pass would hold B..F behind A for a whole minute, far past the wait below.
  proxy = await startTestProxy({ cache: { coalesceWaitMs: 60_000, hitForPassMs: 60_000 } });
});
afterAll(async () => {
  for (const answer of held ?? []) answer();
  await proxy.close(100);
  await origin.close();
});

describe('hit-for-pass', () => {
  it('concurrent requests for a URL known to be uncacheable are not serialised by coalescing', async () => {
    const url = `${origin.url}/slow-uncacheable`;
    expect((await curl(['-x', proxy.url, url])).status).toBe(200); // the first response marks the URL pass
    // A is held at the origin until B..F are there too. With the pass they go straight to the origin (6 in flight at
    // once); coalescing would hold them behind A, which never answers first. (A 400 ms origin delay and B..F started
    // 40 ms after A was the old window: five curl start-ups on a busy machine can take longer than that.)
    held = [];
    const a = curl(['-x', proxy.url, url]);
    await waitFor(() => inFlight === 1 || undefined); // A is at the origin: it went through the cache first
    const rest = Array.from({ length: 5 }, () => curl(['-x', proxy.url, url]));
    const all = await waitFor(() => inFlight === 6 || undefined, 10_000).then(() => true, () => false);
    for (const answer of held.splice(0)) answer();
    held = undefined;
    const results = await Promise.all([a, ...rest]);
    expect(all, 'six requests at the origin at once').toBe(true);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });
});
