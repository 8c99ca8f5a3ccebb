import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { openTunnel } from '../helpers/tunnel.js';
import { hashPasswordScrypt } from '../../src/stages/access.js';

let origin: Origin;

beforeAll(async () => {
  origin = await startHttpOrigin();
});
afterAll(async () => {
  await origin.close();
});

describe('SSRF guard (default config: loopback and metadata origins refused)', () => {
  let strict: TestProxy;
  beforeAll(async () => {
    strict = await startTestProxy({ targets: { allow: [] } });
  });
  afterAll(async () => strict.close(100));

  it.each([
    ['loopback IP', () => `http://127.0.0.1:${origin.port}/echo`],
    ['decimal IPv4', () => `http://2130706433:${origin.port}/echo`],
    ['octal IPv4', () => `http://0177.0.0.1:${origin.port}/echo`],
    ['short IPv4', () => `http://127.1:${origin.port}/echo`],
    ['IPv4-mapped IPv6', () => `http://[::ffff:127.0.0.1]:${origin.port}/echo`],
    ['a name resolving to loopback', () => `http://localhost:${origin.port}/echo`],
    ['link-local metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['the proxy itself', () => `http://127.0.0.1:${strict.port}/proxy.pac`],
  ])('refuses %s with 403', async (_name, url) => {
    const before = origin.seen.length;
    const r = await curl(['-x', strict.url, url()]);
    expect(r.status).toBe(403);
    expect(r.body).toContain('FORBIDDEN_TARGET');
    expect(origin.seen.length).toBe(before);
  });

  it('refuses CONNECT to loopback', async () => {
    const t = await openTunnel(strict.port, '127.0.0.1:443');
    expect(t.status).toBe(403);
  });

  it('lets an explicitly allowed target through', async () => {
    const open = await startTestProxy({ targets: { allow: ['127.0.0.0/8'] } });
    try {
      expect((await curl(['-x', open.url, `${origin.url}/echo`])).status).toBe(200);
    } finally {
      await open.close(100);
    }
  });
});

describe('client access control', () => {
  it('refuses clients outside access.allowClients with 403 (not an open proxy)', async () => {
    const p = await startTestProxy({ access: { allowClients: ['10.0.0.0/8'] } });
    try {
      const r = await curl(['-x', p.url, `${origin.url}/echo`]);
      expect(r.status).toBe(403);
      expect(r.body).toContain('FORBIDDEN_CLIENT');
      const t = await openTunnel(p.port, `127.0.0.1:443`);
      expect(t.status).toBe(403);
    } finally {
      await p.close(100);
    }
  });

  it('requires proxy authentication when an auth file is set (407 then 200)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-auth-'));
    const file = join(dir, 'users');
    await writeFile(file, `# users\nalice:${await hashPasswordScrypt('wonderland')}\n`);
    const p = await startTestProxy({ access: { authFile: file } });
    try {
      const anon = await curl(['-x', p.url, `${origin.url}/echo`]);
      expect(anon.status).toBe(407);
      expect(anon.headers).toMatch(/Proxy-Authenticate: Basic realm="Portico"/i);
      const wrong = await curl(['-x', p.url, '--proxy-user', 'alice:nope', `${origin.url}/echo`]);
      expect(wrong.status).toBe(407);
      const ok = await curl(['-x', p.url, '--proxy-user', 'alice:wonderland', `${origin.url}/echo`]);
      expect(ok.status).toBe(200);
      const echoed = JSON.parse(ok.body) as { rawHeaders: string[] };
      expect(echoed.rawHeaders.map((h) => h.toLowerCase())).not.toContain('proxy-authorization');
      const t = await openTunnel(p.port, '127.0.0.1:443');
      expect(t.status).toBe(407);
    } finally {
      await p.close(100);
    }
  });
});

describe('proxy authentication with TLS interception', () => {
  it('authorises the CONNECT once; requests inside the tunnel pass and carry the user', async () => {
    const { makeTestPki } = await import('../helpers/test-pki.js');
    const { startHttpsOrigin } = await import('../helpers/origin.js');
    const { waitFor } = await import('../helpers/proxy.js');
    const pki = await makeTestPki();
    const secure = await startHttpsOrigin(pki);
    const dir = await mkdtemp(join(tmpdir(), 'portico-auth-mitm-'));
    await writeFile(join(dir, 'users'), `bob:${await hashPasswordScrypt('builder')}\n`);
    const p = await startTestProxy({ certs: dir, mitm: true, connectPorts: [secure.port], upstream: { ca: pki.caFile }, access: { authFile: join(dir, 'users') } });
    try {
      const anon = await curl(['-x', p.url, '--cacert', join(dir, 'ca.pem'), `https://localhost:${secure.port}/echo`]);
      expect(anon.code).not.toBe(0); // curl: CONNECT tunnel failed, response 407
      const ok = await curl(['-x', p.url, '--proxy-user', 'bob:builder', '--cacert', join(dir, 'ca.pem'), `https://localhost:${secure.port}/echo`]);
      expect(ok.status).toBe(200);
      const flow = await waitFor(() => p.events.find((e) => e.type === 'flow.end' && e.flow.url.startsWith('https://localhost')));
      expect(flow.type === 'flow.end' && flow.flow.user).toBe('bob');
    } finally {
      await p.close(100);
      await secure.close();
    }
  });
});
