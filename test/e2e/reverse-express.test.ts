import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/core/flow.js';
import { waitFor } from '../helpers/proxy.js';
import { openRaw, rawExchange } from '../helpers/raw-http.js';
import { startBackend, startTestReverse, type TestBackend, type TestReverse } from '../helpers/reverse.js';

/**
 * The express front door (server.engine: express, the default on plain-HTTP listeners): requests it serves itself,
 * connections it hands to node:http, and the connection lifecycle it owns (keep-alive, timeouts, aborts, shutdown).
 */
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

async function backend(handler?: Parameters<typeof startBackend>[1]): Promise<TestBackend> {
  const b = await startBackend('b1', handler);
  cleanup.push(() => b.close());
  return b;
}

async function proxy(b: TestBackend, extra: Record<string, unknown> = {}): Promise<TestReverse> {
  const p = await startTestReverse({ pools: { web: { backends: [b.address] } }, ...extra });
  cleanup.push(() => p.close(1_000));
  return p;
}

const flows = (p: TestReverse): FlowRecord[] => p.events.flatMap((e) => (e.type === 'flow.end' ? [e.flow] : []));
const BIG = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) % 251));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('express front door', () => {
  it('serves pipelined body-less requests in order on one keep-alive connection, one flow each', async () => {
    const b = await backend();
    const p = await proxy(b);
    const host = `Host: 127.0.0.1:${p.port}\r\n`;
    const r = await rawExchange(p.port, `GET /one HTTP/1.1\r\n${host}\r\nHEAD /two HTTP/1.1\r\n${host}\r\nGET /three HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    expect(r.statuses).toEqual([200, 200, 200]);
    expect(r.closed).toBe(true);
    const bodies = r.text.split('\r\n\r\n').slice(1).map((s) => s.slice(0, 12));
    expect(bodies[0]).toBe('b1 /oneHTTP/');
    expect(r.text).toContain('b1 /three');
    expect(r.text).not.toContain('b1 /two'); // HEAD: a head only
    expect(r.text.match(/Connection: keep-alive/g)).toHaveLength(2);
    expect(r.text).toContain('Connection: close');
    await waitFor(() => (flows(p).length === 3 ? true : undefined));
    expect(flows(p).map((f) => `${f.method} ${f.status ?? 0} ${f.notes.backend ?? ''}`)).toEqual([
      `GET 200 ${b.address}`, `HEAD 200 ${b.address}`, `GET 200 ${b.address}`,
    ]);
    expect(p.stats().inFlight).toBe(0);
  });

  it('hands a connection to node:http at a request with a body, with every byte, and node:http keeps it', async () => {
    const b = await backend((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`));
    });
    const p = await proxy(b);
    const host = `Host: 127.0.0.1:${p.port}\r\n`;
    const r = await rawExchange(p.port, `GET /a HTTP/1.1\r\n${host}\r\n`
      + `POST /b HTTP/1.1\r\n${host}Content-Length: 5\r\n\r\nhello`
      + `GET /c HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    expect(r.statuses).toEqual([200, 200, 200]);
    expect(r.text).toContain('GET /a ');
    expect(r.text).toContain('POST /b hello');
    expect(r.text).toContain('GET /c ');
    await waitFor(() => (flows(p).length === 3 ? true : undefined));
    expect(p.stats().inFlight).toBe(0);
  });

  it('a head split over two reads, and one with more than 32 fields, are served too (by node:http)', async () => {
    const b = await backend();
    const p = await proxy(b);
    const c = await openRaw(p.port);
    c.socket.write(`GET /split HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\nX-A`);
    await new Promise((r) => setTimeout(r, 50));
    c.socket.write(': 1\r\nConnection: close\r\n\r\n');
    await c.whenClosed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.received()).toContain('b1 /split');
    const many = Array.from({ length: 40 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
    const r = await rawExchange(p.port, `GET /many HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\n${many}Connection: close\r\n\r\n`);
    expect(r.statuses).toEqual([200]);
  });

  it('streams a large response whole: chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0 ones', async () => {
    const b = await backend((_req, res: ServerResponse) => {
      // No Content-Length: the backend sends it chunked, in several writes.
      for (let off = 0; off < BIG.length; off += 256 * 1024) res.write(BIG.subarray(off, off + 256 * 1024));
      res.end();
    });
    const p = await proxy(b);
    const res = await fetch(`${p.url}/big`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(BIG));
    const r = await rawExchange(p.port, `GET /big HTTP/1.0\r\nHost: 127.0.0.1:${p.port}\r\n\r\n`, 5000);
    expect(r.closed).toBe(true);
    const body = Buffer.from(r.text.slice(r.text.indexOf('\r\n\r\n') + 4), 'latin1');
    expect(r.text).toContain('Connection: close');
    expect(sha(body)).toBe(sha(BIG));
    await waitFor(() => (flows(p).length === 2 ? true : undefined));
    expect(flows(p).map((f) => f.bytesOut)).toEqual([BIG.length, BIG.length]);
  });

  it('a client that leaves mid-exchange aborts it: its flow ends CLIENT_ABORTED and nothing stays in flight', async () => {
    let answer: ServerResponse | undefined;
    const b = await backend((_req, res) => { answer = res; });
    const p = await proxy(b);
    const c = await openRaw(p.port);
    c.socket.write(`GET /slow HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\n\r\n`);
    await waitFor(() => answer);
    expect(p.stats().inFlight).toBe(1);
    c.socket.destroy();
    const flow = await waitFor(() => flows(p)[0]);
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
    expect(p.stats().inFlight).toBe(0);
  });

  it('closes idle keep-alive connections after keepAliveTimeoutMs, and answers 408 to one that never sends', async () => {
    const b = await backend();
    const p = await proxy(b, { server: { keepAliveTimeoutMs: 200, headersTimeoutMs: 300 } });
    const idle = await openRaw(p.port);
    idle.socket.write(`GET /x HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\n\r\n`);
    await waitFor(() => (idle.received().includes('b1 /x') ? true : undefined));
    expect(idle.received()).not.toContain('Keep-Alive:'); // the hint is in whole seconds: none for 200 ms
    const t0 = Date.now();
    await idle.whenClosed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    const silent = await openRaw(p.port);
    await silent.whenClosed;
    expect(silent.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(p.rejections().get('request-timeout')).toBe(1);
  });

  it('a graceful close lets an in-flight exchange finish with Connection: close, then stops', async () => {
    let answer: ServerResponse | undefined;
    const b = await backend((_req, res) => { answer = res; });
    const p = await startTestReverse({ pools: { web: { backends: [b.address] } } });
    const c = await openRaw(p.port);
    c.socket.write(`GET /slow HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\n\r\n`);
    await waitFor(() => answer);
    const closing = p.close(5_000);
    await new Promise((r) => setTimeout(r, 50));
    answer?.end('late but whole');
    await closing;
    await c.whenClosed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.received()).toContain('Connection: close');
    expect(c.received()).toContain('late but whole');
  });

  it('server.engine: node still serves (the node:http front door alone)', async () => {
    const b = await backend();
    const p = await proxy(b, { server: { engine: 'node' } });
    const r = await rawExchange(p.port, `GET /n HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\nConnection: close\r\n\r\n`);
    expect(r.statuses).toEqual([200]);
    expect(r.text).toContain('b1 /n');
  });
});
