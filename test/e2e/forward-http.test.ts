import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import type { ProxyEvent } from '../../src/core/events.js';

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;

let origin: Origin;
let proxy: TestProxy;

beforeAll(async () => {
  origin = await startHttpOrigin();
  proxy = await startTestProxy();
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
});

function seenHeader(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name.toLowerCase()) out.push(raw[i + 1]!);
  return out;
}

describe('forward proxy, plain HTTP', () => {
  it('forwards an absolute-form GET and reuses upstream connections (keep-alive pool)', async () => {
    const before = origin.connections();
    const seenBefore = origin.seen.length;
    const urls = Array.from({ length: 5 }, (_, i) => `${origin.url}/echo?i=${i}`);
    const r = await curl(['-x', proxy.url, ...urls.flatMap((u) => [u, '-o', '/dev/null'])]);
    expect(r.code).toBe(0);
    expect(origin.seen.length - seenBefore).toBe(5);
    expect(origin.connections() - before).toBe(1);
  });

  it('removes hop-by-hop and Connection-listed headers, adds Via, never forwards Proxy-* headers', async () => {
    const r = await curl(['-x', proxy.url, `${origin.url}/echo`, '-H', 'Connection: X-Secret', '-H', 'X-Secret: s3',
      '-H', 'Keep-Alive: timeout=5', '-H', 'TE: trailers', '-H', 'Proxy-Authorization: Basic Zm9vOmJhcg==',
      '-H', 'Proxy-Connection: keep-alive', '-H', 'X-Kept: yes']);
    expect(r.status).toBe(200);
    const echoed = JSON.parse(r.body) as { rawHeaders: string[] };
    for (const gone of ['x-secret', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection']) {
      expect(seenHeader(echoed.rawHeaders, gone), gone).toEqual([]);
    }
    expect(seenHeader(echoed.rawHeaders, 'X-Kept')).toEqual(['yes']);
    expect(seenHeader(echoed.rawHeaders, 'via')).toEqual(['1.1 portico']);
    expect(r.headers.toLowerCase()).toContain('via: 1.1 portico');
  });

  it('keeps header case and order as the client sent them', async () => {
    const r = await curl(['-x', proxy.url, `${origin.url}/echo`, '-H', 'X-MiXeD-Case: 1', '-H', 'x-second: 2']);
    const raw = (JSON.parse(r.body) as { rawHeaders: string[] }).rawHeaders;
    const i = raw.indexOf('X-MiXeD-Case');
    expect(i).toBeGreaterThanOrEqual(0);
    expect(raw.indexOf('x-second')).toBeGreaterThan(i);
  });

  it('streams a chunked POST body and a content-length PUT body to the origin', async () => {
    const chunked = await curl(['-x', proxy.url, `${origin.url}/echo`, '-H', 'Transfer-Encoding: chunked', '--data-binary', 'hello chunked']);
    expect((JSON.parse(chunked.body) as { body: string }).body).toBe('hello chunked');
    const put = await curl(['-x', proxy.url, '-X', 'PUT', `${origin.url}/echo`, '--data-binary', 'x'.repeat(100_000)]);
    expect((JSON.parse(put.body) as { body: string }).body.length).toBe(100_000);
  });

  it('answers Expect: 100-continue and delivers the body', async () => {
    const r = await curl(['-x', proxy.url, `${origin.url}/echo`, '-H', 'Expect: 100-continue', '--data-binary', 'y'.repeat(5000)]);
    expect(r.status).toBe(200);
    expect(r.headers).toContain('100 Continue');
    const echoed = JSON.parse(r.body) as { body: string; rawHeaders: string[] };
    expect(echoed.body.length).toBe(5000);
    expect(seenHeader(echoed.rawHeaders, 'expect')).toEqual([]);
  });

  it('handles HEAD without a body', async () => {
    const r = await curl(['-x', proxy.url, '-I', `${origin.url}/bytes/1000`]);
    expect(r.status).toBe(200);
    expect(r.headers.toLowerCase()).toContain('content-length: 1000');
    expect(origin.seen.at(-1)?.method).toBe('HEAD');
  });

  it('emits exactly one flow.end per exchange with status, bytes and timings', async () => {
    const before = proxy.events.length;
    await curl(['-x', proxy.url, `${origin.url}/bytes/12345`, '-o', '/dev/null']);
    const flow = await waitFor(() => proxy.events.slice(before).find((e): e is FlowEnd => e.type === 'flow.end'));
    expect(flow.flow.status).toBe(200);
    expect(flow.flow.bytesOut).toBe(12345);
    expect(flow.flow.method).toBe('GET');
    expect(flow.flow.url).toBe(`${origin.url}/bytes/12345`);
    expect(flow.flow.timings.total).toBeGreaterThan(0);
    expect(flow.flow.timings.firstByte).toBeGreaterThan(0);
    expect(flow.flow.mode).toBe('forward');
    await new Promise((r) => setTimeout(r, 50));
    expect(proxy.events.slice(before).filter((e) => e.type === 'flow.end')).toHaveLength(1);
  });

  it('streams a 1 GiB download in constant memory', async () => {
    const size = 1024 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const before = proxy.events.length;
    const r = await curl(['-x', proxy.url, `${origin.url}/bytes/${size}`, '-o', '/dev/null'], { timeoutMs: 60_000 });
    clearInterval(timer);
    expect(r.code).toBe(0);
    const flow = await waitFor(() => proxy.events.slice(before).find((e): e is FlowEnd => e.type === 'flow.end'));
    expect(flow.flow.bytesOut).toBe(size);
    expect(peak - rssBefore).toBeLessThan(96 * 1024 * 1024);
  }, 60_000);

  it('streams a 1 GiB upload in constant memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-upload-'));
    const file = join(dir, 'big.bin');
    const size = 1024 * 1024 * 1024;
    await truncate(file, size).catch(async () => { await writeFile(file, ''); await truncate(file, size); });
    let received = 0;
    const sink = createServer((req, res) => {
      req.on('data', (c: Buffer) => { received += c.length; });
      req.on('end', () => res.end(String(received)));
    });
    sink.listen(0, '127.0.0.1');
    await once(sink, 'listening');
    const port = (sink.address() as AddressInfo).port;
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    try {
      const r = await curl(['-x', proxy.url, '-T', file, `http://127.0.0.1:${port}/upload`], { timeoutMs: 60_000 });
      expect(r.status).toBe(200);
      expect(r.body).toBe(String(size));
      expect(peak - rssBefore).toBeLessThan(96 * 1024 * 1024);
    } finally {
      clearInterval(timer);
      sink.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('serves the PAC file and an info page on its own address', async () => {
    const pac = await curl([`${proxy.url}/proxy.pac`]);
    expect(pac.status).toBe(200);
    expect(pac.headers).toContain('application/x-ns-proxy-autoconfig');
    expect(pac.body).toContain(`PROXY 127.0.0.1:${proxy.port}`);
    expect(pac.body).toContain('function FindProxyForURL');
    const other = await curl([`${proxy.url}/nothing`]);
    expect(other.status).toBe(404);
  });
});

describe('upstream connection timings on flows', () => {
  it('reports DNS and connect on the flow that opened the connection, nothing on reuse', async () => {
    const fresh = await startTestProxy();
    try {
      const port = origin.port;
      await curl(['-x', fresh.url, `http://localhost:${port}/echo?first`, '-o', '/dev/null', `http://localhost:${port}/echo?second`, '-o', '/dev/null']);
      const first = await waitFor(() => fresh.events.find((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url.endsWith('first')));
      const second = await waitFor(() => fresh.events.find((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url.endsWith('second')));
      expect(first.flow.timings.dns).toBeGreaterThanOrEqual(0);
      expect(first.flow.timings.connect).toBeGreaterThanOrEqual(0);
      expect(first.flow.timings.tls).toBeUndefined();
      expect(second.flow.timings.connect).toBeUndefined();
      expect(second.flow.timings.firstByte).toBeGreaterThan(0);
    } finally {
      await fresh.close(100);
    }
  });
});
