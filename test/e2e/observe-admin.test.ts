import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import type { FlowRecord } from '../../src/core/flow.js';
import { startObservers, type Observers } from '../../src/observe/observers.js';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';

const TOKEN = 'admin-sekrit';
let origin: Origin;
let proxy: TestProxy;
let observers: Observers;
let admin: string;
let dir: string;

const auth = { authorization: `Bearer ${TOKEN}` };
const get = (path: string, headers: Record<string, string> = auth): Promise<Response> => fetch(admin + path, { headers });
const viaProxy = (path: string, extra: string[] = []) => curl(['-x', proxy.url, ...extra, origin.url + path]);

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 20))) {
    const v = await fn();
    if (v !== undefined) return v;
  }
  throw new Error('timed out');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-admin-'));
  origin = await startHttpOrigin();
  const log = { headers: true, bodies: 16, format: 'squid', accessLog: [join(dir, 'access.log')] };
  proxy = await startTestProxy({ log });
  const config = validateConfig(forwardConfigSchema, { log, admin: { listen: '127.0.0.1:0', token: TOKEN } }, 'test');
  observers = await startObservers(proxy.bus, config, {
    mode: 'forward', version: 'test', purgeCache: (plan) => proxy.purgeCache(plan),
    inFlight: () => proxy.stats().inFlight, openTunnels: () => proxy.stats().tunnels,
  });
  admin = observers.admin?.url ?? '';
});
afterAll(async () => {
  await proxy.close(100);
  await observers.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin endpoint over real sockets', () => {
  it('refuses requests without the bearer token (401)', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }] as Array<Record<string, string>>) {
      const res = await get('/metrics', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('counts a proxied request in /metrics and lists it in /flows with secrets redacted', async () => {
    const r = await viaProxy('/echo?n=1', ['-H', 'Authorization: Bearer user-secret', '-H', 'Cookie: a=cookie-secret']);
    expect(r.status).toBe(200);
    const flow = await poll(async () => {
      const flows = (await (await get('/flows?limit=50')).json()) as FlowRecord[];
      return flows.find((f) => f.url.endsWith('/echo?n=1'));
    });
    expect(flow.status).toBe(200);
    expect(flow.requestHeaders).toContainEqual(['authorization', '[REDACTED]']);
    expect(flow.requestHeaders).toContainEqual(['cookie', '[REDACTED]']);
    expect(flow.responseBody).toBe('{"method":"GET",'); // log.bodies: the first 16 bytes of a JSON body
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^portico_requests_total\{mode="forward",status_class="2xx",cache="[a-z]+",policy="[a-z-]+"\} [1-9]/m);
    expect(metrics).toMatch(/^portico_inflight_requests 0$/m);
    const all = JSON.stringify(await (await get('/flows')).json()) + metrics + await (await get('/har')).text();
    expect(all).not.toContain('user-secret');
    expect(all).not.toContain('cookie-secret');
  });

  it('streams a flow over /events as it happens', async () => {
    const controller = new AbortController();
    const res = await fetch(`${admin}/events`, { headers: auth, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    await reader.read(); // the opening comment: the subscription exists before the request is sent
    const sent = viaProxy('/status/404');
    while (!/event: flow\ndata: .*\/status\/404/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await sent;
    controller.abort();
    const data = /event: flow\ndata: (.*)\n/.exec(text)?.[1] ?? '{}';
    expect(JSON.parse(data)).toMatchObject({ status: 404, method: 'GET' });
  });

  it('serves /health, /upstreams, /har and purges the cache', async () => {
    expect(await (await get('/health')).json()).toMatchObject({ status: 'ok', mode: 'forward' });
    expect(await (await get('/upstreams')).json()).toEqual({ pools: [] });
    const har = (await (await get('/har')).json()) as { log: { version: string; entries: unknown[] } };
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.length).toBeGreaterThan(0);
    const purge = await fetch(`${admin}/cache/purge`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"all":true}' });
    expect(await purge.json()).toMatchObject({ purged: expect.any(Number) as number });
    const bad = await fetch(`${admin}/cache/purge`, { method: 'POST', headers: auth, body: '{}' });
    expect(bad.status).toBe(400);
    expect((await get('/nope')).status).toBe(404);
  });

  it('writes squid access-log lines to the file', async () => {
    await viaProxy('/status/204');
    await waitFor(() => proxy.events.some((e) => e.type === 'flow.end' && e.flow.url.endsWith('/status/204')));
    await new Promise((r) => setImmediate(r));
    await observers.accessLog?.flush();
    const text = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(text).toMatch(/^\d+\.\d{3} +\d+ 127\.0\.0\.1 TCP_MISS\/204 0 GET http:\/\/127\.0\.0\.1:\d+\/status\/204 - HIER_DIRECT\/127\.0\.0\.1 text\/plain$/m);
    expect(text).not.toContain('user-secret');
  });
});
