import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { curl } from '../helpers/curl.js';
import { httpsFixture, type HttpsFixture } from '../helpers/https-fixture.js';
import type { Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import type { TestPki } from '../helpers/test-pki.js';
import { openTunnel } from '../helpers/tunnel.js';
import type { ProxyEvent } from '../../src/core/events.js';

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;

let fx: HttpsFixture;
let pki: TestPki;
let origin: Origin;
let certs: string;
let proxy: TestProxy;
let caFile: string;

beforeAll(async () => {
  fx = await httpsFixture();
  ({ pki, origin, certs } = fx);
  caFile = join(certs, 'ca.pem');
  proxy = await fx.proxy({ certs, mitm: { enabled: true } });
});
afterAll(async () => {
  await fx.close();
});

async function tlsThroughProxy(p: TestProxy, target: string, opts: { servername?: string; ca: string; alpn?: string[] }): Promise<TLSSocket> {
  const t = await openTunnel(p.port, target);
  expect(t.status).toBe(200);
  const host = target.slice(0, target.lastIndexOf(':'));
  const socket = tlsConnect({ socket: t.socket, ca: opts.ca, host, ...(opts.servername ? { servername: opts.servername } : {}), ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}) });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return socket;
}

describe('CONNECT with TLS interception', () => {
  it('creates the CA on first use with the key files at mode 0600', async () => {
    expect((await stat(join(certs, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(certs, 'leaf.key'))).mode & 0o777).toBe(0o600);
  });

  it('serves HTTPS through the pipeline: the origin sees the request, the client a Portico leaf', async () => {
    const r = await curl(['-v', '-x', proxy.url, '--cacert', caFile, `https://localhost:${origin.port}/echo`]);
    expect(r.status).toBe(200);
    expect(r.stderr).toContain('issuer: CN=Portico CA');
    const echoed = JSON.parse(r.body) as { url: string; rawHeaders: string[] };
    expect(echoed.url).toBe('/echo');
    expect(echoed.rawHeaders).toContain('1.1 portico');
    const flow = await waitFor(() => proxy.events.find((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url === `https://localhost:${origin.port}/echo`));
    expect(flow.flow.notes.intercepted).toBe(true);
    expect(flow.flow.status).toBe(200);
    expect(flow.flow.timings.connect).toBeGreaterThanOrEqual(0);
    expect(flow.flow.timings.tls).toBeGreaterThan(0);
  });

  it('issues a leaf for the SNI name with the AKI of the CA, and only offers http/1.1', async () => {
    const ca = await readFile(caFile, 'utf8');
    const socket = await tlsThroughProxy(proxy, `localhost:${origin.port}`, { servername: 'localhost', ca, alpn: ['h2', 'http/1.1'] });
    expect(socket.authorized).toBe(true);
    expect(socket.alpnProtocol).toBe('http/1.1');
    const peer = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
    expect(peer.subject.CN).toBe('localhost');
    expect(peer.subjectaltname).toBe('DNS:localhost');
    const leaf = new X509Certificate(peer.raw);
    const caX509 = new X509Certificate(ca);
    expect(leaf.checkIssued(caX509)).toBe(true);
    expect(leaf.verify(caX509.publicKey)).toBe(true);
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    expect(days).toBeLessThanOrEqual(397);
    socket.destroy();
  });

  it('uses an IP SAN for IP targets without SNI', async () => {
    const ca = await readFile(caFile, 'utf8');
    const socket = await tlsThroughProxy(proxy, `127.0.0.1:${origin.port}`, { ca });
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subjectaltname).toBe('IP Address:127.0.0.1');
    socket.destroy();
  });

  it('refuses a request whose Host differs from the CONNECT target (421)', async () => {
    const ca = await readFile(caFile, 'utf8');
    const socket = await tlsThroughProxy(proxy, `localhost:${origin.port}`, { servername: 'localhost', ca });
    socket.end(`GET /echo HTTP/1.1\r\nHost: evil.test:${origin.port}\r\nConnection: close\r\n\r\n`);
    const text = await new Promise<string>((resolve) => {
      let t = '';
      socket.on('data', (d: Buffer) => { t += d.toString(); }).on('close', () => resolve(t));
    });
    expect(text).toMatch(/^HTTP\/1\.1 421/);
    expect(text).toContain('HOST_MISMATCH');
  });

  it('serves the CA page at http://portico.ca/ through the proxy', async () => {
    const page = await curl(['-x', proxy.url, 'http://portico.ca/']);
    expect(page.status).toBe(200);
    expect(page.body).toContain('portico-ca.pem');
    const pem = await curl(['-x', proxy.url, 'http://portico.ca/portico-ca.pem']);
    const crlf = /\r\n/g;
    expect(pem.body.replace(crlf, '\n').trim()).toBe((await readFile(caFile, 'utf8')).replace(crlf, '\n').trim());
  });

  it('gives a 502 naming the reason when the origin certificate is not trusted, unless insecure', async () => {
    const strict = await startTestProxy({ certs, mitm: true, connectPorts: [origin.port] });
    const insecure = await startTestProxy({ certs, mitm: true, connectPorts: [origin.port], upstream: { insecure: true } });
    try {
      const bad = await curl(['-x', strict.url, '--cacert', caFile, `https://localhost:${origin.port}/echo`]);
      expect(bad.status).toBe(502);
      expect(bad.body).toContain('UPSTREAM_TLS');
      expect(bad.body.toLowerCase()).toMatch(/certificate|issuer/);
      const ok = await curl(['-x', insecure.url, '--cacert', caFile, `https://localhost:${origin.port}/echo`]);
      expect(ok.status).toBe(200);
    } finally {
      await strict.close(100);
      await insecure.close(100);
    }
  });

  it('tunnels hosts in mitm.bypass blind', async () => {
    const bypass = await startTestProxy({ certs, mitm: { enabled: true, bypass: ['localhost', '*.pinned.test'] }, connectPorts: [origin.port] });
    try {
      const r = await curl(['-v', '-x', bypass.url, '--cacert', pki.caFile, `https://localhost:${origin.port}/echo`]);
      expect(r.status).toBe(200);
      expect(r.stderr).toContain('issuer: CN=Portico Test Origin CA');
    } finally {
      await bypass.close(100);
    }
  });
});
