import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import { makeTestPki } from '../helpers/test-pki.js';

let origin: Origin;
let secure: Origin;
let parent: TestProxy;
let child: TestProxy;

beforeAll(async () => {
  const pki = await makeTestPki();
  origin = await startHttpOrigin();
  secure = await startHttpsOrigin(pki);
  parent = await startTestProxy({ via: { pseudonym: 'parent' }, connectPorts: [secure.port] });
  const certs = await mkdtemp(join(tmpdir(), 'portico-chain-'));
  child = await startTestProxy({
    via: { pseudonym: 'child' }, upstream: { proxy: parent.url, ca: pki.caFile }, connectPorts: [secure.port], certs,
  });
});
afterAll(async () => {
  await child.close(100);
  await parent.close(100);
  await origin.close();
  await secure.close();
});

describe('upstream proxy chaining (Portico through a second Portico)', () => {
  it('sends plain HTTP through the parent as absolute-form', async () => {
    const r = await curl(['-x', child.url, `${origin.url}/echo`]);
    expect(r.status).toBe(200);
    const raw = (JSON.parse(r.body) as { rawHeaders: string[] }).rawHeaders;
    const via = raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'via').join(', ');
    expect(via).toBe('1.1 child, 1.1 parent');
    // The parent's flow.end reaches its subscribers asynchronously: waited for (10 s), not read at once.
    expect(await waitFor(() => parent.events.some((e) => e.type === 'flow.end' && e.flow.url === `${origin.url}/echo`) || undefined, 10_000)).toBe(true);
  });

  it('tunnels CONNECT through the parent\'s CONNECT', async () => {
    const r = await curl(['-x', child.url, '-k', `https://localhost:${secure.port}/echo`]);
    expect(r.status).toBe(200);
    await waitFor(() => parent.events.some((e) => e.type === 'tunnel.end' && e.target === `localhost:${secure.port}`));
  });

  it('reports a dead parent as 502 UPSTREAM_PROXY', async () => {
    const orphan = await startTestProxy({ upstream: { proxy: 'http://127.0.0.1:9' } });
    try {
      const r = await curl(['-x', orphan.url, `${origin.url}/echo`]);
      expect(r.status).toBe(502);
      expect(r.body).toContain('UPSTREAM_PROXY');
    } finally {
      await orphan.close(100);
    }
  });
});

describe('upstream proxy chaining through a third-party parent (http-mitm-proxy)', () => {
  it('interoperates for plain HTTP', async () => {
    const { Proxy } = await import('http-mitm-proxy');
    const quiet = ['debug', 'info', 'log', 'error'] as const;
    const saved = quiet.map((k) => console[k]);
    for (const k of quiet) console[k] = () => undefined; // the library writes to console unconditionally
    const dir = await mkdtemp(join(tmpdir(), 'portico-hmp-'));
    const third = new Proxy();
    await new Promise<void>((resolve, reject) => third.listen({ host: '127.0.0.1', port: 0, sslCaDir: dir }, (e) => (e ? reject(e) : resolve())));
    const port = (third as unknown as { httpPort: number }).httpPort;
    const viaThird = await startTestProxy({ upstream: { proxy: `http://127.0.0.1:${port}` } });
    try {
      const r = await curl(['-x', viaThird.url, `${origin.url}/echo?through=third`]);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ url: '/echo?through=third' });
      expect(origin.seen.at(-1)?.url).toBe('/echo?through=third');
    } finally {
      await viaThird.close(100);
      third.close();
      quiet.forEach((k, i) => { console[k] = saved[i]!; });
    }
  });
});
