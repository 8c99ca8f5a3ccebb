import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { createServer } from 'node:net';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import type { ProxyEvent } from '../../src/core/events.js';

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;

let origin: Origin;
let proxy: TestProxy;

beforeAll(async () => {
  origin = await startHttpOrigin();
  proxy = await startTestProxy({ upstream: { headersTimeoutMs: 500, connectTimeoutMs: 2000 } });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
});

async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    setTimeout(() => s.destroy(), 3000);
  });
}

describe('forward proxy errors are distinct and never crash', () => {
  it('DNS failure → 502 DNS_FAILED with an HTML page for browsers and text otherwise', async () => {
    const text = await curl(['-x', proxy.url, 'http://does-not-exist.invalid/']);
    expect(text.status).toBe(502);
    expect(text.body).toContain('DNS_FAILED');
    expect(text.headers).toContain('text/plain');
    const html = await curl(['-x', proxy.url, '-H', 'Accept: text/html', 'http://does-not-exist.invalid/']);
    expect(html.body).toContain('<h1>502 DNS lookup failed</h1>');
  });

  it('connection refused → 502 CONNECT_REFUSED, recorded on the flow', async () => {
    const port = await closedPort();
    const before = proxy.events.length;
    const r = await curl(['-x', proxy.url, `http://127.0.0.1:${port}/`]);
    expect(r.status).toBe(502);
    expect(r.body).toContain('CONNECT_REFUSED');
    const flow = await waitFor(() => proxy.events.slice(before).find((e): e is FlowEnd => e.type === 'flow.end'));
    expect(flow.flow.error?.code).toBe('CONNECT_REFUSED');
  });

  it('an origin that never answers → 504 HEADERS_TIMEOUT', async () => {
    const r = await curl(['-x', proxy.url, `${origin.url}/hang`]);
    expect(r.status).toBe(504);
    expect(r.body).toContain('HEADERS_TIMEOUT');
  });

  it('a malformed request → 400 and the connection closes', async () => {
    const reply = await rawRequest(proxy.port, 'GET http://x/ HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const both = await rawRequest(proxy.port,
      `POST ${origin.url}/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
    expect(both).toMatch(/^HTTP\/1\.1 400/);
  });

  it('an origin-form request for another host → 404 from the proxy itself, not forwarded', async () => {
    const before = origin.seen.length;
    const reply = await rawRequest(proxy.port, 'GET /secret HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 404/);
    expect(origin.seen.length).toBe(before);
  });

  it('an unsupported scheme → 400', async () => {
    const reply = await rawRequest(proxy.port, 'GET ftp://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
  });

  it('a request carrying this proxy in Via → 508 loop detected', async () => {
    const r = await curl(['-x', proxy.url, '-H', 'Via: 1.1 other, 1.1 portico', `${origin.url}/echo`]);
    expect(r.status).toBe(508);
    expect(r.body).toContain('LOOP_DETECTED');
  });

  it('an origin that closes mid-body → the client sees a truncated response and the flow records the error', async () => {
    const cut = await startHttpOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100000' });
      res.write(Buffer.alloc(1000, 0x62));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    try {
      const before = proxy.events.length;
      const r = await curl(['-x', proxy.url, `${cut.url}/`, '-o', '/dev/null']);
      expect(r.code).not.toBe(0);
      const flow = await waitFor(() => proxy.events.slice(before).find((e): e is FlowEnd => e.type === 'flow.end'));
      expect(flow.flow.error).toBeDefined();
      expect(flow.flow.bytesOut).toBeLessThan(100000);
    } finally {
      await cut.close();
    }
  });
});
