import { once } from 'node:events';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeConfig, validateConfig, type PlainObject } from '../../src/config/load.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { hashPasswordScrypt } from '../../src/stages/htpasswd.js';
import { waitFor } from '../helpers/proxy.js';
import { startBackend, startTestReverse, type TestBackend, type TestReverse } from '../helpers/reverse.js';

const SECRET = 'e2e-secret-that-is-at-least-32-bytes';
let dir: string;
let backend: TestBackend;
let proxy: TestReverse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-gw-e2e-'));
  await writeFile(join(dir, 'users'), `alice:${await hashPasswordScrypt('wonderland')}\n`);
  await mkdir(join(dir, 'rules'));
  await writeFile(join(dir, 'rules', 'policy.yaml'), 'rules:\n  - id: no-admin\n    action: block\n    path: /admin/**\n');
  backend = await startBackend('b1', (req, res) => {
    res.setHeader('Cache-Control', req.url?.startsWith('/cached') ? 'public, max-age=60' : 'no-store');
    res.setHeader('X-Seen-Auth', req.headers.authorization ?? '-');
    res.end(`b1 ${req.url ?? ''}`);
  });
  proxy = await startTestReverse({
    pools: { web: { backends: [backend.address] } },
    routes: [
      { id: 'basic', path: '/basic', pool: 'web', auth: { type: 'basic', htpasswd: join(dir, 'users'), realm: 'staff' } },
      { id: 'jwt', path: '/jwt', pool: 'web', auth: { type: 'jwt', secret: SECRET, audience: 'shop', clockSkewSec: 5 } },
      { id: 'limited', path: '/limited', pool: 'web', rateLimit: { ratePerSecond: 0.01, burst: 2 } },
      { id: 'cached', path: '/cached', pool: 'web', cache: true },
      { id: 'ruled', pool: 'web', policy: { rules: join(dir, 'rules'), watch: false } },
    ],
  });
});

afterAll(async () => {
  await proxy?.close(1000);
  await backend?.close();
});

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('reverse proxy per-route stages (gateway)', () => {
  it('Basic auth: 401 with a challenge, then the backend answers without seeing the password', async () => {
    const before = backend.hits;
    const denied = await fetch(`${proxy.url}/basic/x`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Basic realm="staff", charset="UTF-8"');
    expect((await fetch(`${proxy.url}/basic/x`, { headers: { authorization: basic('alice', 'bad') } })).status).toBe(401);
    expect(backend.hits).toBe(before);
    const ok = await fetch(`${proxy.url}/basic/x`, { headers: { authorization: basic('alice', 'wonderland') } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-seen-auth')).toBe('-');
    // The admitted exchange's own flow (the 401s came first), waited for: events reach subscribers asynchronously.
    const flow = await waitFor(() => proxy.events.find((e) => e.type === 'flow.end' && e.flow.url.endsWith('/basic/x') && e.flow.status === 200));
    expect(flow.type === 'flow.end' && flow.flow.user).toBe('alice');
  });

  it('JWT: a valid token passes (and is forwarded); an expired or wrong-audience one gets invalid_token', async () => {
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const token = (aud: string, exp: number): Promise<string> =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setAudience(aud).setSubject('u1').setExpirationTime(exp).sign(key);
    const good = await token('shop', now + 60);
    const ok = await fetch(`${proxy.url}/jwt/a`, { headers: { authorization: `Bearer ${good}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-seen-auth')).toBe(`Bearer ${good}`);
    const expired = await fetch(`${proxy.url}/jwt/a`, { headers: { authorization: `Bearer ${await token('shop', now - 60)}` } });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer realm="portico", error="invalid_token", error_description="the token has expired"');
    const aud = await fetch(`${proxy.url}/jwt/a`, { headers: { authorization: `Bearer ${await token('other', now + 60)}` } });
    expect(aud.status).toBe(401);
    expect((await fetch(`${proxy.url}/jwt/a`)).headers.get('www-authenticate')).toBe('Bearer realm="portico"');
  });

  it('rate limit: the burst passes with RateLimit fields, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await fetch(`${proxy.url}/limited`);
      statuses.push(last.status);
      if (i === 0) expect(last.headers.get('ratelimit')).toBe('"limited";r=1;t=100');
      await last.text();
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(90);
    expect(last?.headers.get('ratelimit-policy')).toBe('"limited";q=2;w=200');
    expect((await fetch(`${proxy.url}/other`)).status).toBe(200); // other routes are not limited
  });

  it('cache: a second GET is a hit that never reaches the backend', async () => {
    const first = await fetch(`${proxy.url}/cached/page`);
    expect(await first.text()).toBe('b1 /cached/page');
    const hits = backend.hits;
    const second = await fetch(`${proxy.url}/cached/page`);
    expect(await second.text()).toBe('b1 /cached/page');
    expect(second.headers.get('cache-status')).toMatch(/portico; hit/);
    expect(backend.hits).toBe(hits);
  });

  it('policy: a route\'s rules block with 403; other paths pass', async () => {
    const blocked = await fetch(`${proxy.url}/admin/users`);
    expect(blocked.status).toBe(403);
    await blocked.text();
    expect((await fetch(`${proxy.url}/public`)).status).toBe(200);
  });

  it('an Upgrade (WebSocket) on an authenticated route gets the same 401: auth cannot be bypassed by upgrading', async () => {
    const before = backend.hits;
    const sock = connect(proxy.port, '127.0.0.1');
    await once(sock, 'connect');
    sock.write('GET /basic/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'
      + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    let text = '';
    sock.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    await once(sock, 'close');
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(text).toContain('WWW-Authenticate: Basic realm="staff"');
    expect(backend.hits).toBe(before);
  });
});

describe('per-route stages across reloads', () => {
  it('an unchanged rate limit keeps its buckets, a changed one starts afresh, and a broken auth file keeps the old config', async () => {
    const routes = (rateLimit: PlainObject, extra: PlainObject = {}): PlainObject[] => [{ id: 'api', pool: 'web', rateLimit, ...extra }];
    const cfg = (r: PlainObject[]) => validateConfig(reverseConfigSchema,
      mergeConfig({ listen: '127.0.0.1:0', log: { level: 'silent' } }, { pools: { web: { backends: [backend.address] } }, routes: r }), 'test');
    const p = await startTestReverse({ pools: { web: { backends: [backend.address] } }, routes: routes({ ratePerSecond: 0.01, burst: 1 }) });
    try {
      const status = async (): Promise<number> => { const r = await fetch(`${p.url}/x`); await r.text(); return r.status; };
      expect([await status(), await status()]).toEqual([200, 429]);
      await p.reload(cfg(routes({ ratePerSecond: 0.01, burst: 1 })));
      expect(await status()).toBe(429); // same bucket
      await p.reload(cfg(routes({ ratePerSecond: 0.01, burst: 2 })));
      expect(await status()).toBe(200); // a new limiter
      await expect(p.reload(cfg(routes({ ratePerSecond: 0.01, burst: 2 }, { auth: { type: 'basic', htpasswd: join(dir, 'missing') } }))))
        .rejects.toThrow(/ENOENT/);
      expect(await status()).toBe(200); // still the previous generation (no auth), same bucket (1 token left)
      expect(await status()).toBe(429);
    } finally {
      await p.close(500);
    }
  });
});
