import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/proxy.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startBackend, startTestReverse, type TestBackend } from '../helpers/reverse.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

async function backends(n: number): Promise<TestBackend[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => startBackend(`b${i + 1}`)));
  for (const b of list) cleanup.push(() => b.close());
  return list;
}

async function proxyFor(config: Record<string, unknown>) {
  const p = await startTestReverse(config);
  cleanup.push(() => p.close(1_000));
  return p;
}

describe('reverse proxy over real backends', () => {
  it('round robin spreads evenly, exposes the backend, and replaces a spoofed X-Forwarded-For', async () => {
    const bs = await backends(3);
    const p = await proxyFor({ pools: { web: { backends: bs.map((b) => b.address) } }, exposeBackend: true });
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${p.url}/x`, { headers: { 'X-Forwarded-For': '6.6.6.6' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-seen-xff')).toBe('127.0.0.1');
      const backend = res.headers.get('x-portico-backend') ?? '';
      seen.set(backend, (seen.get(backend) ?? 0) + 1);
      await res.text();
    }
    expect([...seen.values()]).toEqual([10, 10, 10]);
    const flow = await waitFor(() => p.events.find((e) => e.type === 'flow.end'));
    expect(flow.type === 'flow.end' && flow.flow.mode).toBe('reverse');
    expect(flow.type === 'flow.end' && flow.flow.notes.pick).toMatch(/^round-robin: /);
  });

  it('answers a target that is not origin-form with 400 and one flow, and counts every exchange as done', async () => {
    const bs = await backends(1);
    const p = await proxyFor({ pools: { web: { backends: bs.map((b) => b.address) } } });
    const bad = await rawExchange(p.port, `GET http://elsewhere.test/x HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\n\r\n`);
    expect(bad.statuses).toEqual([400]);
    expect(bad.closed).toBe(true);
    const flow = await waitFor(() => p.events.find((e) => e.type === 'flow.end' && e.flow.error?.code === 'BAD_REQUEST'));
    expect(flow.type === 'flow.end' && flow.flow.status).toBe(400);
    expect(bs[0]?.hits).toBe(0);
    const ok = await fetch(`${p.url}/x`);
    expect(ok.status).toBe(200);
    await ok.text();
    // Both exchanges told the drain they were over (a graceful stop would otherwise wait out its grace).
    await waitFor(() => (p.stats().inFlight === 0 ? true : undefined));
  });

  it('a backend killed mid-run costs no client request (connect failures and resets retried elsewhere)', async () => {
    const bs = await backends(3);
    const p = await proxyFor({ pools: { web: { backends: bs.map((b) => b.address), retry: { backoffBaseMs: 1 } } } });
    const statuses: number[] = [];
    let done = 0;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${p.url}/w`);
        statuses.push(res.status);
        await res.text();
        if (++done === 60) await bs[1]?.close();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(statuses).toHaveLength(240);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(bs[1]?.hits).toBeLessThan(80);
  });

  it('active checks mark a backend down and back up, with reasons, and traffic avoids it meanwhile', async () => {
    const bs = await backends(3);
    const p = await proxyFor({ pools: { web: { backends: bs.map((b) => b.address),
      health: { path: '/healthz', intervalMs: 30, timeoutMs: 200, jitter: 0 } } } });
    const sick = bs[2] as TestBackend;
    sick.health = 500;
    const down = await waitFor(() => p.events.find((e) => e.type === 'backend.health' && e.state === 'down'));
    expect(down).toMatchObject({ pool: 'web', backend: sick.address, reason: '3 consecutive failed checks (HTTP 500 on /healthz)' });
    const before = sick.hits;
    for (let i = 0; i < 12; i++) await (await fetch(`${p.url}/`)).text();
    expect(sick.hits).toBe(before);
    sick.health = 200;
    const up = await waitFor(() => p.events.find((e) => e.type === 'backend.health' && e.state === 'up'));
    expect(up).toMatchObject({ backend: sick.address, reason: '2 consecutive passing checks (HTTP 200 on /healthz)' });
  });

  it('all backends down → 503 NO_HEALTHY_BACKEND with a clear body, at once', async () => {
    const bs = await backends(2);
    const p = await proxyFor({ pools: { web: { backends: bs.map((b) => b.address),
      health: { path: '/healthz', intervalMs: 20, timeoutMs: 200, jitter: 0 } } } });
    for (const b of bs) b.health = 503;
    await waitFor(() => p.events.filter((e) => e.type === 'backend.health' && e.state === 'down').length === 2);
    const started = Date.now();
    const res = await fetch(`${p.url}/`, { headers: { Accept: 'text/plain' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-portico-error')).toBe('NO_HEALTHY_BACKEND');
    expect(await res.text()).toContain('no healthy backend in pool web');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('sticky cookie keeps a client on one backend', async () => {
    const bs = await backends(3);
    const p = await proxyFor({ pools: { web: { backends: bs.map((b) => b.address), sticky: { cookie: 'srv' } } }, exposeBackend: true });
    const first = await fetch(`${p.url}/`);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^srv=[0-9a-f]{16}$/);
    const backend = first.headers.get('x-portico-backend');
    await first.text();
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${p.url}/`, { headers: { Cookie: cookie } });
      expect(r.headers.get('x-portico-backend')).toBe(backend);
      expect(r.headers.get('set-cookie')).toBeNull();
      await r.text();
    }
  });

  it('canary split within tolerance, X-Canary: always overrides, strip-prefix rewrites', async () => {
    const [v1, v2] = await backends(2);
    const p = await proxyFor({
      pools: { v1: { backends: [v1?.address] }, v2: { backends: [v2?.address] } },
      routes: [{ id: 'shop', path: '/shop', stripPrefix: true, pool: 'v1', canary: { pool: 'v2', percent: 20 } }],
    });
    let canary = 0;
    for (let i = 0; i < 400; i++) {
      const body = await (await fetch(`${p.url}/shop/cart`)).text();
      if (body.startsWith('b2')) canary++;
      if (i === 0) expect(body).toMatch(/^b[12] \/cart$/);
    }
    expect(canary / 400).toBeGreaterThan(0.14);
    expect(canary / 400).toBeLessThan(0.26);
    expect(await (await fetch(`${p.url}/shop/x`, { headers: { 'X-Canary': 'always' } })).text()).toBe('b2 /x');
    expect((await fetch(`${p.url}/other`)).status).toBe(404);
  });
});
