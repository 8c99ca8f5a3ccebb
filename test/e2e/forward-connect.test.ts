import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tlsConnect } from 'node:tls';
import { curl } from '../helpers/curl.js';
import { startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { openTunnel } from '../helpers/tunnel.js';
import type { ProxyEvent } from '../../src/core/events.js';
import { freePort } from '../helpers/ports.js';

type TunnelEnd = Extract<ProxyEvent, { type: 'tunnel.end' }>;

let pki: TestPki;
let origin: Origin;
let proxy: TestProxy;

beforeAll(async () => {
  pki = await makeTestPki();
  origin = await startHttpsOrigin(pki);
  proxy = await startTestProxy({ connectPorts: [443, origin.port] });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
});

describe('CONNECT without interception', () => {
  it('tunnels blind: the client sees the origin\'s own certificate', async () => {
    const r = await curl(['-v', '-x', proxy.url, '--cacert', pki.caFile, `https://localhost:${origin.port}/echo`]);
    expect(r.status).toBe(200);
    expect(r.stderr).toContain('issuer: CN=Portico Test Origin CA');
    expect(JSON.parse(r.body)).toMatchObject({ method: 'GET', url: '/echo' });
  });

  it('answers 200 only after the target is connected, and reports tunnel bytes on close', async () => {
    const before = proxy.events.length;
    const socket = await openTunnel(proxy.port, `127.0.0.1:${origin.port}`);
    expect(socket.status).toBe(200);
    const tls = tlsConnect({ socket: socket.socket, servername: 'localhost', ca: pki.caCert });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    tls.end('GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      tls.on('data', (d: Buffer) => { text += d.toString(); }).on('end', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    const end = await waitFor(() => proxy.events.slice(before).find((e): e is TunnelEnd => e.type === 'tunnel.end'));
    expect(end.intercepted).toBe(false);
    expect(end.target).toBe(`127.0.0.1:${origin.port}`);
    expect(end.bytesIn).toBeGreaterThan(100);
    expect(end.bytesOut).toBeGreaterThan(500);
  });

  it('refuses ports outside connectPorts with 403', async () => {
    const t = await openTunnel(proxy.port, '127.0.0.1:22');
    expect(t.status).toBe(403);
    expect(t.head).toContain('FORBIDDEN_PORT');
  });

  it('gives 502 naming the cause when the target refuses, and 400 for a malformed target', async () => {
    const closedPort = await freePort();
    const p2 = await startTestProxy({ connectPorts: [closedPort] });
    try {
      const t = await openTunnel(p2.port, `127.0.0.1:${closedPort}`);
      expect(t.status).toBe(502);
      expect(t.head).toContain('CONNECT_REFUSED');
      const bad = await openTunnel(p2.port, 'no-port-here');
      expect(bad.status).toBe(400);
    } finally {
      await p2.close(100);
    }
  });

  it('a refused dial\'s tunnel.end carries the time the dial took, not 0 ms', async () => {
    // A parent proxy that takes 300 ms to refuse every CONNECT: the child's dial through it fails after that long.
    const { createServer } = await import('node:net');
    const parent = createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => setTimeout(() => s.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'), 300));
    }).listen(0, '127.0.0.1');
    await new Promise((r) => parent.once('listening', r));
    const child = await startTestProxy({ connectPorts: [443], upstream: { proxy: `http://127.0.0.1:${(parent.address() as { port: number }).port}` } });
    try {
      const t = await openTunnel(child.port, 'slow-refusal.example:443');
      expect(t.status).toBeGreaterThanOrEqual(500);
      const end = await waitFor(() => child.events.find((e): e is TunnelEnd => e.type === 'tunnel.end'));
      expect(end.error).toBeDefined();
      expect(end.durationMs).toBeGreaterThanOrEqual(290);
    } finally {
      await child.close(100);
      await new Promise((r) => parent.close(r));
    }
  });
});

