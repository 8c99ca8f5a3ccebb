import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import { curl } from '../helpers/curl.js';
import { startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { openTunnel } from '../helpers/tunnel.js';

type TunnelEnd = Extract<ProxyEvent, { type: 'tunnel.end' }>;

const RULES = `rules:
  - { id: pinned, action: no-mitm, host: localhost }
  - { id: blocked, action: block, host: ["blocked.example", "*.blocked.example"] }
  - { id: trial, action: block, host: 127.0.0.1, report-only: true }
`;

let pki: TestPki;
let origin: Origin;
let dir: string;
let certs: string;
let mitm: TestProxy;
let blind: TestProxy;

beforeAll(async () => {
  pki = await makeTestPki();
  origin = await startHttpsOrigin(pki);
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-'));
  certs = await mkdtemp(join(tmpdir(), 'portico-certs-'));
  await writeFile(join(dir, 'policy.yaml'), RULES);
  const common = { policy: { rules: dir, watch: false }, connectPorts: [443, origin.port], upstream: { ca: pki.caFile } };
  mitm = await startTestProxy({ ...common, certs, mitm: { enabled: true } });
  blind = await startTestProxy(common);
});
afterAll(async () => {
  await mitm.close(100);
  await blind.close(100);
  await origin.close();
  await rm(dir, { recursive: true, force: true });
  await rm(certs, { recursive: true, force: true });
});

describe('policy over HTTPS', () => {
  it('intercepted: the blocked host gets the block page inside the tunnel', async () => {
    const r = await curl(['-x', mitm.url, '--cacert', join(certs, 'ca.pem'), '-H', 'Accept: text/html', 'https://www.blocked.example/x']);
    expect(r.status).toBe(403);
    expect(r.body).toContain('Blocked by policy');
    expect(r.body).toContain('<code>blocked</code>');
  });

  it('intercepted: a Host header naming a blocked site is decided too', async () => {
    const t = await openTunnel(mitm.port, `127.0.0.1:${origin.port}`);
    expect(t.status).toBe(200);
    const ca = await readFile(join(certs, 'ca.pem'), 'utf8');
    const socket = tlsConnect({ socket: t.socket, ca, servername: 'blocked.example' });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write('GET / HTTP/1.1\r\nHost: blocked.example\r\nConnection: close\r\n\r\n');
    let text = '';
    for await (const chunk of socket) text += (chunk as Buffer).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 403/);
    expect(text).toContain('rule: blocked');
  });

  it('blind: a blocked CONNECT gets 403 on the CONNECT itself', async () => {
    const t = await openTunnel(blind.port, 'blocked.example:443');
    expect(t.status).toBe(403);
    expect(t.head).toMatch(/X-Portico-Error: POLICY_BLOCKED/i);
    const ev = await waitFor(() => blind.events.find((e): e is TunnelEnd => e.type === 'tunnel.end' && e.target === 'blocked.example:443'));
    expect(ev.error).toContain('POLICY_BLOCKED: block by rule blocked');
  });

  it('blind: report-only lets the CONNECT through to the dial', async () => {
    const t = await openTunnel(blind.port, `127.0.0.1:${origin.port}`);
    expect(t.status).toBe(200);
    t.socket.destroy();
  });

  it('no-mitm tunnels blind even with --mitm: the client sees the origin\'s own certificate', async () => {
    const r = await curl(['-v', '-x', mitm.url, '--cacert', pki.caFile, `https://localhost:${origin.port}/echo`]);
    expect(r.status).toBe(200);
    expect(r.stderr).toContain('Portico Test Origin CA');
    const ev = await waitFor(() => mitm.events.find((e): e is TunnelEnd => e.type === 'tunnel.end' && e.target === `localhost:${origin.port}`));
    expect(ev.intercepted).toBe(false);
  });
});
