import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../../../src/core/clock.js';
import { createEventBus, type ProxyEvent } from '../../../src/core/events.js';
import { ActiveChecker, DEFAULT_ACTIVE_CHECK } from '../../../src/health/active.js';
import { DEFAULT_HEALTH, PoolHealth } from '../../../src/health/outlier.js';
import { networkProbe, type Probe } from '../../../src/health/probe.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); });

async function listen(server: Server | net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

const until = async (cond: () => boolean, ms = 3_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('active checker', () => {
  it('checks on its interval, emits down after fall 3 and up after rise 2 with the probe detail, stops on close', async () => {
    let healthy = true;
    let calls = 0;
    const probe: Probe = async () => { calls++; return { ok: healthy, detail: healthy ? 'HTTP 200 on /healthz' : 'HTTP 500 on /healthz' }; };
    const bus = createEventBus();
    const events: ProxyEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const health = new PoolHealth(['b1']);
    const checker = new ActiveChecker([{ id: 'b1', host: '127.0.0.1', port: 1 }],
      { ...DEFAULT_ACTIVE_CHECK, intervalMs: 10 }, { pool: 'web', health, clock: systemClock, random: seededRandom(3), bus, probe });
    checker.start();
    await until(() => calls >= 2);
    healthy = false;
    await until(() => events.length === 1);
    expect(events[0]).toEqual({ type: 'backend.health', pool: 'web', backend: 'b1', state: 'down',
      reason: '3 consecutive failed checks (HTTP 500 on /healthz)' });
    healthy = true;
    await until(() => events.length === 2);
    expect(events[1]).toMatchObject({ state: 'up', reason: '2 consecutive passing checks (HTTP 200 on /healthz)' });
    await checker.close();
    const after = calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBeLessThanOrEqual(after + 1);
  });
});

describe('network probes', () => {
  it('HTTP: passes on the expected status, fails on another, names it', async () => {
    const port = await listen(createServer((req, res) => { res.statusCode = req.url === '/healthz' ? 204 : 503; res.end(); }));
    const target = { id: 'b', host: '127.0.0.1', port };
    const signal = new AbortController().signal;
    expect(await networkProbe(target, { ...DEFAULT_ACTIVE_CHECK, path: '/healthz' }, signal)).toEqual({ ok: true, detail: 'HTTP 204 on /healthz' });
    expect(await networkProbe(target, { ...DEFAULT_ACTIVE_CHECK, path: '/x' }, signal)).toEqual({ ok: false, detail: 'HTTP 503 on /x' });
  });

  it('HTTP: a backend that never answers fails by the timeout', async () => {
    const port = await listen(createServer(() => { /* hang */ }));
    const health = new PoolHealth(['b'], { ...DEFAULT_HEALTH, fall: 1 });
    const bus = createEventBus();
    const events: ProxyEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const checker = new ActiveChecker([], { ...DEFAULT_ACTIVE_CHECK, timeoutMs: 50 },
      { pool: 'p', health, clock: systemClock, random: seededRandom(1), bus });
    const started = Date.now();
    await checker.checkOnce({ id: 'b', host: '127.0.0.1', port });
    expect(Date.now() - started).toBeLessThan(1_000);
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ state: 'down', reason: '1 consecutive failed checks (check timed out)' });
  });

  it('TCP: passes on connect, fails on refusal', async () => {
    const port = await listen(net.createServer((s) => s.end()));
    const signal = new AbortController().signal;
    const spec = { ...DEFAULT_ACTIVE_CHECK, kind: 'tcp' as const };
    expect((await networkProbe({ id: 'b', host: '127.0.0.1', port }, spec, signal)).ok).toBe(true);
    const free = net.createServer();
    const freePort = await listen(free);
    await new Promise<void>((r) => free.close(() => r()));
    expect(await networkProbe({ id: 'b', host: '127.0.0.1', port: freePort }, spec, signal)).toEqual({ ok: false, detail: 'TCP ECONNREFUSED' });
  });
});
