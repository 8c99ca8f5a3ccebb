import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import { curl } from '../helpers/curl.js';
import { httpsFixture, type HttpsFixture } from '../helpers/https-fixture.js';
import { waitFor, type TestProxy } from '../helpers/proxy.js';
import { openTunnel } from '../helpers/tunnel.js';

type TunnelEnd = Extract<ProxyEvent, { type: 'tunnel.end' }>;

const RULES = `rules:
  - { id: pinned, action: no-mitm, host: localhost }
  - { id: blocked, action: block, host: ["blocked.example", "*.blocked.example"] }
  - { id: trial, action: block, host: 127.0.0.1, report-only: true }
`;

let fx: HttpsFixture;
let mitm: TestProxy;
let blind: TestProxy;

beforeAll(async () => {
  fx = await httpsFixture({ rules: RULES, connectPorts: [443] });
  mitm = await fx.proxy({ certs: fx.certs, mitm: { enabled: true } });
  blind = await fx.proxy();
});
afterAll(async () => {
  await fx.close();
});

describe('policy over HTTPS', () => {
  it('intercepted: the blocked host gets the block page inside the tunnel', async () => {
    const r = await curl(['-x', mitm.url, '--cacert', join(fx.certs, 'ca.pem'), '-H', 'Accept: text/html', 'https://www.blocked.example/x']);
    expect(r.status).toBe(403);
    expect(r.body).toContain('Blocked by policy');
    expect(r.body).toContain('<code>blocked</code>');
  });

  it('intercepted: a Host header naming a blocked site is decided too', async () => {
    const t = await openTunnel(mitm.port, `127.0.0.1:${fx.origin.port}`);
    expect(t.status).toBe(200);
    const ca = await readFile(join(fx.certs, 'ca.pem'), 'utf8');
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
    const t = await openTunnel(blind.port, `127.0.0.1:${fx.origin.port}`);
    expect(t.status).toBe(200);
    t.socket.destroy();
  });

  it('no-mitm tunnels blind even with --mitm: the client sees the origin\'s own certificate', async () => {
    const r = await curl(['-v', '-x', mitm.url, '--cacert', fx.pki.caFile, `https://localhost:${fx.origin.port}/echo`]);
    expect(r.status).toBe(200);
    expect(r.stderr).toContain('Portico Test Origin CA');
    const ev = await waitFor(() => mitm.events.find((e): e is TunnelEnd => e.type === 'tunnel.end' && e.target === `localhost:${fx.origin.port}`));
    expect(ev.intercepted).toBe(false);
  });
});
