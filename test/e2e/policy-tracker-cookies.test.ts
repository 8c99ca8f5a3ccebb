import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';

/**
 * Issue 3, strict profile: cookies to hosts in a tracker category are removed both ways (Cookie out, Set-Cookie
 * back), through the proxy with a rules folder whose trackers list names the origin host (stages/anonymize.ts).
 */

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;
interface Echo { url: string; cookie: string | null }

let dir: string;
let origin: Origin;
let strict: TestProxy;
let standard: TestProxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-'));
  await mkdir(join(dir, 'lists'));
  await writeFile(join(dir, 'policy.yaml'), 'rules:\n  - { id: by-rule, action: anonymize strict, path: /ruled/** }\n');
  await writeFile(join(dir, 'lists', 'trackers.txt'), 'localhost\n'); // the origin, by name; 127.0.0.1 is not listed
  origin = await startHttpOrigin((req, res) => {
    res.writeHead(200, [['Content-Type', 'application/json'], ['Cache-Control', 'no-store'], ['Set-Cookie', 'id=abc; Path=/'], ['Set-Cookie', 'seen=1']]);
    res.end(JSON.stringify({ url: req.url, cookie: req.headers.cookie ?? null }));
  });
  const common = { policy: { rules: dir, watch: false } };
  strict = await startTestProxy({ ...common, anonymize: { profile: 'strict' } });
  standard = await startTestProxy(common);
});
afterAll(async () => {
  await strict.close(100);
  await standard.close(100);
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

async function get(proxy: TestProxy, url: string): Promise<{ echo: Echo; setCookies: string[] }> {
  const r = await curl(['-x', proxy.url, '-H', 'Cookie: id=client-secret', url]);
  expect(r.status).toBe(200);
  const setCookies = r.headers.split('\r\n').filter((l) => /^set-cookie:/i.test(l));
  return { echo: JSON.parse(r.body) as Echo, setCookies };
}

const flowEnd = (proxy: TestProxy, url: string): Promise<FlowEnd> =>
  waitFor(() => proxy.events.find((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url === url));

describe('strict: cookies of tracker hosts', () => {
  it('a host in the trackers category loses Cookie on the way out and Set-Cookie on the way back', async () => {
    const url = `http://localhost:${origin.port}/t1`;
    const { echo, setCookies } = await get(strict, url);
    expect(echo.cookie).toBeNull();
    expect(setCookies).toEqual([]);
    const flow = await flowEnd(strict, url);
    expect(flow.flow.notes.anonymized).toEqual(expect.arrayContaining([
      'removed Cookie (tracker category trackers)', 'removed Set-Cookie (tracker category trackers)',
    ]));
  });

  it('a host in no tracker category keeps its cookies both ways', async () => {
    const { echo, setCookies } = await get(strict, `http://127.0.0.1:${origin.port}/t2`);
    expect(echo.cookie).toBe('id=client-secret');
    expect(setCookies).toHaveLength(2);
  });

  it('standard leaves the cookies of tracker hosts alone', async () => {
    const { echo, setCookies } = await get(standard, `http://localhost:${origin.port}/t3`);
    expect(echo.cookie).toBe('id=client-secret');
    expect(setCookies).toHaveLength(2);
  });

  it('a rule choosing strict removes them too (the profile comes from the decision)', async () => {
    const { echo, setCookies } = await get(standard, `http://localhost:${origin.port}/ruled/t4`);
    expect(echo.cookie).toBeNull();
    expect(setCookies).toEqual([]);
  });
});
