import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/core/flow.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import { rawExchange } from '../helpers/raw-http.js';

/**
 * The express front door on the forward proxy's port (server.engine: express, the default): body-less absolute-form
 * requests are served on the raw connection; local pages, bodies and CONNECT on the same connection go to node:http.
 */
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

async function setup(overrides: Record<string, unknown> = {}): Promise<{ origin: Origin; proxy: TestProxy }> {
  const origin = await startHttpOrigin();
  cleanup.push(() => origin.close());
  const proxy = await startTestProxy(overrides);
  cleanup.push(() => proxy.close(500));
  return { origin, proxy };
}

const flows = (p: TestProxy): FlowRecord[] => p.events.flatMap((e) => (e.type === 'flow.end' ? [e.flow] : []));

describe('express front door, forward proxy', () => {
  it('pipelined absolute-form requests, then the PAC file and a POST on the same connection (handed to node:http)', async () => {
    const { origin, proxy } = await setup();
    const r = await rawExchange(proxy.port, `GET ${origin.url}/echo?a HTTP/1.1\r\nHost: x\r\n\r\n`
      + `GET ${origin.url}/status/404 HTTP/1.1\r\nHost: x\r\n\r\n`
      + `GET /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`
      + `POST ${origin.url}/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody`);
    expect(r.statuses).toEqual([200, 404, 200, 200]);
    expect(r.text).toContain('"url":"/echo?a"');
    expect(r.text).toContain('FindProxyForURL');
    expect(r.text).toContain('"body":"body"');
    // The pipeline's response stages ran (Via, Cache-Status), and the origin saw our Via.
    expect(r.text).toContain('Via: 1.1 portico');
    expect(r.text).toContain('Cache-Status: portico; fwd=uri-miss');
    expect(r.text).toContain('"Via","1.1 portico"');
    await waitFor(() => (flows(proxy).length === 4 ? true : undefined));
    expect(flows(proxy).map((f) => `${f.mode} ${f.method} ${f.status ?? 0}`)).toEqual(['forward GET 200', 'forward GET 404', 'forward GET 200', 'forward POST 200']);
    expect(origin.seen.map((s) => s.method)).toEqual(['GET', 'GET', 'POST']);
    expect(proxy.stats().inFlight).toBe(0);
  });

  it('a cache hit is answered on the express path, the origin asked once', async () => {
    const origin = await startHttpOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'text/plain' });
      res.end('cached body');
    });
    cleanup.push(() => origin.close());
    const proxy = await startTestProxy({ cache: true });
    cleanup.push(() => proxy.close(500));
    const req = `GET ${origin.url}/c HTTP/1.1\r\nHost: x\r\n\r\n`;
    const r = await rawExchange(proxy.port, `${req}${req.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`);
    expect(r.statuses).toEqual([200, 200]);
    expect(r.text.match(/cached body/g)).toHaveLength(2);
    await waitFor(() => (flows(proxy).length === 2 ? true : undefined));
    expect(flows(proxy).map((f) => f.notes.cache)).toEqual(['miss', 'hit']);
    expect(origin.seen).toHaveLength(1);
  });

  it('a forbidden target is refused by the pipeline on the express path, with its flow', async () => {
    const origin = await startHttpOrigin();
    cleanup.push(() => origin.close());
    const proxy = await startTestProxy({ targets: { allow: [] } });
    cleanup.push(() => proxy.close(500));
    const r = await rawExchange(proxy.port, `GET ${origin.url}/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r.statuses).toEqual([403]);
    expect(origin.seen).toHaveLength(0);
    const flow = await waitFor(() => flows(proxy)[0]);
    expect(flow.error?.code).toBe('FORBIDDEN_TARGET');
  });
});
