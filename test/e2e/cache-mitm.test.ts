import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl } from '../helpers/curl.js';
import { startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import { makeTestPki } from '../helpers/test-pki.js';
import type { ProxyEvent } from '../../src/core/events.js';

let origin: Origin;
let proxy: TestProxy;
let caFile: string;
let hits = 0;

beforeAll(async () => {
  const pki = await makeTestPki();
  origin = await startHttpsOrigin(pki, (_req, res) => {
    hits++;
    res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'text/plain' });
    res.end(`secure ${hits}`);
  });
  const certs = await mkdtemp(join(tmpdir(), 'portico-certs-'));
  caFile = join(certs, 'ca.pem');
  proxy = await startTestProxy({ certs, mitm: { enabled: true }, connectPorts: [origin.port], upstream: { ca: pki.caFile } });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
});

describe('cache inside intercepted HTTPS', () => {
  it('an intercepted https:// response is stored and the next request is a hit that never reaches the origin', async () => {
    const url = `https://localhost:${origin.port}/cached`;
    const a = await curl(['-x', proxy.url, '--cacert', caFile, url]);
    // The first flow has ended, so its response is in the memory store (instead of a fixed 30 ms pause).
    await waitFor(() => proxy.events.some((e) => e.type === 'flow.end' && e.flow.url === url) || undefined);
    const b = await curl(['-x', proxy.url, '--cacert', caFile, url]);
    expect([a.body, b.body]).toEqual(['secure 1', 'secure 1']);
    expect(b.headers.toLowerCase()).toContain('cache-status: portico; hit');
    expect(hits).toBe(1);
    const notes = await waitFor(() => {
      const flows = proxy.events.filter((e): e is Extract<ProxyEvent, { type: 'flow.end' }> => e.type === 'flow.end' && e.flow.url === url);
      return flows.length === 2 ? flows.map((f) => [f.flow.notes.intercepted, f.flow.notes.cache]) : undefined;
    });
    expect(notes).toEqual([[true, 'miss'], [true, 'hit']]);
  });

  it('http:// and https:// of the same host and path are different entries', async () => {
    const before = hits;
    await curl(['-x', proxy.url, '--cacert', caFile, `https://localhost:${origin.port}/scheme`]);
    // The plain-http request reaches a TLS port and fails upstream; what matters is that it is not the https entry.
    const plain = await curl(['-x', proxy.url, `http://localhost:${origin.port}/scheme`]);
    expect(plain.body).not.toBe(`secure ${before + 1}`);
  });
});
