import { text } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBalance } from '../../../src/balance/spec.js';
import { seededRandom } from '../../../src/core/clock.js';
import { createEventBus, type ProxyEvent } from '../../../src/core/events.js';
import type { StageContext } from '../../../src/core/stage.js';
import { BackendPool, type PoolConfig } from '../../../src/upstream/backend-pool.js';
import { BalancedUpstream } from '../../../src/upstream/balanced.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';
import { startHttpOrigin, type Origin } from '../../helpers/origin.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

const ctx = {} as StageContext;

async function backend(name: string, status = 200): Promise<Origin & { name: string }> {
  const o = await startHttpOrigin((_req, res) => { res.writeHead(status, { 'x-backend': name }); res.end(name); });
  cleanup.push(() => o.close());
  return Object.assign(o, { name });
}

async function setup(origins: Array<{ port: number }>, extra: Partial<PoolConfig> = {}, deadPorts: number[] = []) {
  const bus = createEventBus();
  const events: ProxyEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const pool = new BackendPool({
    name: 'web', balance: parseBalance('round-robin'),
    backends: [...origins.map((o) => ({ address: `127.0.0.1:${o.port}`, weight: 1 })), ...deadPorts.map((p) => ({ address: `127.0.0.1:${p}`, weight: 1 }))],
    retry: { backoffBaseMs: 1 }, ...extra,
  }, { clock: testClock, random: seededRandom(1), bus });
  cleanup.push(() => pool.close());
  const upstream = new BalancedUpstream({ clock: testClock, random: seededRandom(2), pools: new Map([['web', pool]]), defaultPool: 'web' });
  return { pool, upstream, events };
}

async function get(upstream: BalancedUpstream, init: Partial<Parameters<typeof makeFlow>[0]> = {}) {
  const flow = makeFlow({ url: 'http://app.test/x', ...init });
  const res = await upstream.send(flow, ctx);
  // A body that had fully arrived comes as bytes, a longer one as a stream.
  const body = res.body === null ? '' : res.body instanceof Uint8Array ? Buffer.from(res.body).toString('utf8') : await text(res.body as Readable);
  return { flow, res, body };
}

describe('balanced upstream', () => {
  it('round-robins over real backends and notes pool, backend, attempts and the reason', async () => {
    const [a, b, c] = await Promise.all([backend('a'), backend('b'), backend('c')]);
    const { upstream } = await setup([a, b, c]);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push((await get(upstream)).body);
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    const { flow } = await get(upstream);
    expect(flow.notes).toMatchObject({ pool: 'web', backend: `127.0.0.1:${a.port}`, attempts: 1 });
    expect(flow.notes.pick).toMatch(/^round-robin: 127\.0\.0\.1:\d+ \(slot 0\/3\)$/);
  });

  it('frees the backend slot once the body is done: whole, streamed to the end, or dropped', async () => {
    const o = await startHttpOrigin();
    cleanup.push(() => o.close());
    const { upstream, pool } = await setup([o]);
    const backend = pool.backends[0];
    const small = await upstream.send(makeFlow({ url: 'http://app.test/bytes/16' }), ctx);
    expect(small.body).toBeInstanceOf(Uint8Array);
    expect(backend?.active).toBe(0);
    const large = await upstream.send(makeFlow({ url: `http://app.test/bytes/${4 * 1024 * 1024}` }), ctx);
    expect(large.body).toBeInstanceOf(Readable);
    expect(backend?.active).toBe(1);
    expect((await text(large.body as Readable)).length).toBe(4 * 1024 * 1024);
    await new Promise((resolve) => setImmediate(resolve));
    expect(backend?.active).toBe(0);
    const dropped = await upstream.send(makeFlow({ url: `http://app.test/bytes/${4 * 1024 * 1024}` }), ctx);
    (dropped.body as Readable).destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(backend?.active).toBe(0);
  });

  it('keeps the backend\'s header case, order and repeated fields, also for a request that waited in the pool\'s queue', async () => {
    const o = await startHttpOrigin((_req, res) => {
      res.writeHead(200, ['X-Mixed-Case', 'a', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '2']);
      res.end('ok');
    });
    cleanup.push(() => o.close());
    // One connection and two requests at once: the second waits in the pool's queue for the first one's connection.
    const { upstream, pool } = await setup([o], { connections: { connections: 1, queueTimeoutMs: 5_000 } });
    const both = await Promise.all([get(upstream), get(upstream)]);
    for (const { res, body } of both) {
      expect(body).toBe('ok');
      expect(res.head.headers.filter(([n]) => n !== 'Date' && n !== 'Connection' && n !== 'Keep-Alive')).toEqual([
        ['X-Mixed-Case', 'a'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Length', '2'],
      ]);
    }
    const backend = pool.backends[0];
    expect(backend?.active).toBe(0);
    expect(backend?.pool.stats()).toMatchObject({ connected: 1, pending: 0 });
  });

  it('retries a refused connection on another backend, and a 503 for GET, but not for POST with a body', async () => {
    const ok = await backend('ok');
    const down = await backend('down');
    const deadPort = down.port;
    await down.close();
    const { upstream } = await setup([ok], {}, [deadPort]);
    for (let i = 0; i < 4; i++) expect((await get(upstream)).body).toBe('ok');

    const busy = await backend('busy', 503);
    const s2 = await setup([busy, ok]);
    const r = await get(s2.upstream);
    expect(r.body).toBe('ok');
    expect(r.flow.notes.attempts).toBe(2);
    expect(r.flow.notes.pick).toContain(`127.0.0.1:${busy.port} status 503`);
    const s3 = await setup([busy, ok]);
    const post = await get(s3.upstream, { method: 'POST', body: Readable.from([Buffer.from('x')]) });
    expect(post.res.head.status).toBe(503);
  });

  it('ejects a backend after 5 consecutive failures and says so on the bus', async () => {
    const [a, b] = await Promise.all([backend('a'), backend('bad', 500)]);
    const { upstream, events, pool } = await setup([a, b], { health: { maxEjectionPercent: 50 } });
    for (let i = 0; i < 10; i++) await get(upstream);
    await new Promise((r) => setImmediate(r));
    expect(events).toContainEqual(expect.objectContaining({ type: 'backend.health', backend: `127.0.0.1:${b.port}`, state: 'ejected' }));
    expect(pool.health.state(`127.0.0.1:${b.port}`, testClock.monotonic())).toBe('ejected');
    for (let i = 0; i < 4; i++) expect((await get(upstream)).body).toBe('a');
  });

  it('answers NO_HEALTHY_BACKEND 503 naming each backend when all are down by checks', async () => {
    const [a, b] = await Promise.all([backend('a'), backend('b')]);
    const { upstream, pool } = await setup([a, b]);
    for (const x of pool.backends) for (let i = 0; i < 3; i++) pool.health.activeResult(x.id, false, 0, 'HTTP 500 on /healthz');
    const err = await upstream.send(makeFlow({ url: 'http://app.test/' }), ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_HEALTHY_BACKEND', status: 503 });
    expect((err as Error).message).toContain(`127.0.0.1:${a.port} down (3 consecutive failed checks (HTTP 500 on /healthz))`);
  });

  it('sticky cookie: sets it once, then keeps the client on that backend; falls back when it is gone', async () => {
    const [a, b, c] = await Promise.all([backend('a'), backend('b'), backend('c')]);
    const { upstream, pool } = await setup([a, b, c], { stickyCookie: 'pst' });
    const first = await get(upstream);
    const cookie = first.res.head.headers.find(([k]) => k === 'Set-Cookie')?.[1] ?? '';
    expect(cookie).toMatch(/^pst=[0-9a-f]{16}; Path=\/; HttpOnly; SameSite=Lax$/);
    const value = cookie.split(';')[0] as string;
    for (let i = 0; i < 5; i++) {
      const again = await get(upstream, { headers: [['Cookie', `x=1; ${value}`]] });
      expect(again.body).toBe(first.body);
      expect(again.res.head.headers.some(([k]) => k === 'Set-Cookie')).toBe(false);
    }
    const owner = pool.backends.find((x) => x.id === first.flow.notes.backend);
    for (let i = 0; i < 3; i++) pool.health.activeResult(owner?.id ?? '', false, 0);
    const moved = await get(upstream, { headers: [['Cookie', value]] });
    expect(moved.body).not.toBe(first.body);
    expect(moved.res.head.headers.some(([k]) => k === 'Set-Cookie')).toBe(true);
  });

  it('hash-ip keeps one client on one backend', async () => {
    const [a, b, c] = await Promise.all([backend('a'), backend('b'), backend('c')]);
    const { upstream } = await setup([a, b, c], { balance: parseBalance('hash-ip') });
    const by = async (ip: string): Promise<string> => (await get(upstream, { clientIp: ip })).body;
    const first = await by('192.0.2.7');
    for (let i = 0; i < 5; i++) expect(await by('192.0.2.7')).toBe(first);
  });

  it('a request waiting longer than queueTimeoutMs for a free connection fails with CONNECT_TIMEOUT, not a hang', async () => {
    const hang = await startHttpOrigin(() => undefined);
    const { upstream } = await setup([hang], { connections: { connections: 1, queueTimeoutMs: 80 } });
    cleanup.push(() => hang.close()); // runs first: the hung request ends, so the pool can close
    const first = upstream.send(makeFlow({ url: 'http://app.test/hang' }), ctx).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    const started = Date.now();
    const err = await upstream.send(makeFlow({ url: 'http://app.test/next' }), ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONNECT_TIMEOUT' });
    expect((err as Error).message).toContain('(pool queue)');
    expect(Date.now() - started).toBeLessThan(1_000);
    void first;
  });

  it('every backend unreachable (no checks configured) → NO_HEALTHY_BACKEND 503 naming each, not a 502', async () => {
    const [x, y] = await Promise.all([backend('x'), backend('y')]);
    await Promise.all([x.close(), y.close()]);
    const { upstream } = await setup([], {}, [x.port, y.port]);
    const err = await upstream.send(makeFlow({ url: 'http://app.test/' }), ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_HEALTHY_BACKEND', status: 503 });
    expect((err as Error).message).toBe(`no backend of pool web could be reached: 127.0.0.1:${x.port} CONNECT_REFUSED, 127.0.0.1:${y.port} CONNECT_REFUSED`);
  });
});
