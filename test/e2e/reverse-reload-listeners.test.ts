import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeConfig, validateConfig, type PlainObject } from '../../src/config/load.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { waitFor } from '../helpers/proxy.js';
import { startBackend, startTestReverse, type TestBackend } from '../helpers/reverse.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { freePort } from '../helpers/ports.js';

let pki: TestPki;
let b1: TestBackend;
let b2: TestBackend;
let slowSeen = 0;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  pki = await makeTestPki();
  const handler = (name: string) => (req: { url?: string }, res: { end(s: string): void }) => {
    if (req.url === '/slow') slowSeen++;
    setTimeout(() => res.end(name), req.url === '/slow' ? 400 : 0);
  };
  b1 = await startBackend('b1', handler('b1'));
  b2 = await startBackend('b2', handler('b2'));
}, 30_000);

afterAll(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  await b1?.close();
  await b2?.close();
});

/** A port nobody listens on right now. */
const cfg = (listen: unknown, backend: TestBackend = b1) => validateConfig(reverseConfigSchema,
  mergeConfig({ log: { level: 'silent' }, shutdown: { graceMs: 2_000 } }, { listen, pools: { web: { backends: [backend.address] } } } as PlainObject), 'test');
const tls = () => ({ cert: join(pki.dir, 'leaf.pem'), key: join(pki.dir, 'leaf.key') });

/** One request on a new connection: the status and body, or the error code. */
function get(url: string, path = '/'): Promise<string> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, path, ca: pki.caCert, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(`${res.statusCode ?? 0} ${body}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

describe('hot reload of listeners', () => {
  it('under load: adds an HTTP and an HTTPS listener that serve, then removes them (in-flight requests finish); zero failures on the unchanged one', async () => {
    const [portB, portC] = [await freePort(), await freePort()];
    const a = '127.0.0.1:0';
    const p = await startTestReverse({ listen: a, shutdown: { graceMs: 2_000 }, pools: { web: { backends: [b1.address] } } });
    cleanup.push(() => p.close(1_000));
    const urlA = p.url;
    let running = true;
    const results: string[] = [];
    const worker = async (): Promise<void> => {
      while (running) {
        const res = await fetch(`${urlA}/`).then(async (r) => `${r.status} ${await r.text()}`, (e: Error) => e.message);
        results.push(res);
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    await waitFor(() => results.length >= 20, 10_000);

    const added = [a, `127.0.0.1:${portB}`, { address: `127.0.0.1:${portC}`, tls: tls() }];
    await p.reload(cfg(added));
    expect(p.listeners.map((l) => [l.url, l.tls])).toEqual([[urlA, false], [`http://127.0.0.1:${portB}`, false], [`https://127.0.0.1:${portC}`, true]]);
    expect(await get(`http://127.0.0.1:${portB}`)).toBe('200 b1');
    expect(await get(`https://127.0.0.1:${portC}`)).toBe('200 b1');

    // Slow requests in flight on B and C when they are removed still get their answer; new connections are refused.
    const slowB = get(`http://127.0.0.1:${portB}`, '/slow');
    const slowC = get(`https://127.0.0.1:${portC}`, '/slow');
    await waitFor(() => slowSeen >= 2, 5_000); // both are at the backend
    const n = results.length;
    await p.reload(cfg([a], b2)); // and the pool changes in the same reload
    expect(p.listeners.map((l) => l.url)).toEqual([urlA]);
    expect(await get(`http://127.0.0.1:${portB}`)).toBe('ECONNREFUSED');
    expect(await get(`https://127.0.0.1:${portC}`)).toBe('ECONNREFUSED');
    expect([await slowB, await slowC]).toEqual(['200 b1', '200 b1']);
    await waitFor(() => results.length >= n + 40 && results.at(-1) === '200 b2', 10_000);
    running = false;
    await Promise.all(workers);
    expect(results.filter((r) => !/^200 b[12]$/.test(r))).toEqual([]);
  });

  it('a listener that cannot be bound refuses the whole reload with the address and cause; the previous config stays in force', async () => {
    const p = await startTestReverse({ listen: '127.0.0.1:0', pools: { web: { backends: [b1.address] } } });
    cleanup.push(() => p.close(1_000));
    const squatter: Server = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    cleanup.push(() => new Promise((r) => { squatter.close(() => r()); }));
    const taken = (squatter.address() as AddressInfo).port;
    const free = await freePort();
    const before = p.listeners;
    await expect(p.reload(cfg(['127.0.0.1:0', `127.0.0.1:${free}`, `127.0.0.1:${taken}`], b2)))
      .rejects.toThrow(new RegExp(`cannot listen on http://127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`));
    expect(p.listeners).toEqual(before);
    expect(await get(`http://127.0.0.1:${free}`)).toBe('ECONNREFUSED'); // the one bound before the failure is closed again
    expect(await get(p.url)).toBe('200 b1'); // old pool, old listener
    await p.reload(cfg(['127.0.0.1:0', `127.0.0.1:${free}`], b2)); // and a later good reload applies
    expect(await get(`http://127.0.0.1:${free}`)).toBe('200 b2');
  });

  it('rebinds a listener whose kind changed on the same address (HTTP → HTTPS → HTTP), or moved to another host on its port', async () => {
    const port = await freePort();
    const p = await startTestReverse({ listen: `127.0.0.1:${port}`, pools: { web: { backends: [b1.address] } } });
    cleanup.push(() => p.close(1_000));
    expect(await get(`http://127.0.0.1:${port}`)).toBe('200 b1');
    await p.reload(cfg([{ address: `127.0.0.1:${port}`, tls: tls() }]));
    expect(await get(`https://127.0.0.1:${port}`)).toBe('200 b1');
    expect(p.listeners).toEqual([{ url: `https://127.0.0.1:${port}`, port, tls: true }]);
    await p.reload(cfg([`127.0.0.1:${port}`]));
    expect(await get(`http://127.0.0.1:${port}`)).toBe('200 b1');

    // Another host on that port: the old listener steps aside first; when the new one cannot bind, the old comes back.
    const squatter: Server = createServer().listen(port, '127.0.0.3');
    await once(squatter, 'listening');
    cleanup.push(() => new Promise((r) => { squatter.close(() => r()); }));
    await expect(p.reload(cfg([`127.0.0.3:${port}`]))).rejects.toThrow(new RegExp(`cannot listen on http://127\\.0\\.0\\.3:${port}: .*EADDRINUSE`));
    expect(await get(`http://127.0.0.1:${port}`)).toBe('200 b1');
    await p.reload(cfg([`127.0.0.2:${port}`]));
    expect(await get(`http://127.0.0.2:${port}`)).toBe('200 b1');
    expect(await get(`http://127.0.0.1:${port}`)).toBe('ECONNREFUSED');
  });

  it('a `:0` listener rebound as HTTPS keeps the port it got', async () => {
    const p = await startTestReverse({ listen: '127.0.0.1:0', pools: { web: { backends: [b1.address] } } });
    cleanup.push(() => p.close(1_000));
    const port = p.port;
    await p.reload(cfg([{ address: '127.0.0.1:0', tls: tls() }]));
    expect(p.listeners).toEqual([{ url: `https://127.0.0.1:${port}`, port, tls: true }]);
    expect(await get(`https://127.0.0.1:${port}`)).toBe('200 b1');
  });
});
