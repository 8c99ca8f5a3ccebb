import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import * as uv from '../../../src/l4/uv.js';

const cleanup: Array<() => void> = [];
afterEach(() => { for (const c of cleanup.splice(0).reverse()) c(); });

/** A net echo server (half-close aware) on 127.0.0.1. */
async function echo(): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => undefined); s.pipe(s); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** Collects a handle's reads into `got` until EOF or an error (`end` resolves with the last status). */
function reader(h: uv.TcpHandle): { got: Buffer[]; end: Promise<number> } {
  const got: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  let done: (status: number) => void = () => undefined;
  const end = new Promise<number>((resolve) => { done = resolve; });
  uv.useReader(h, { onRead: (n) => { if (n > 0) got.push(Buffer.from(buf.subarray(0, n))); else if (n < 0) done(n); return undefined; } }, buf);
  return { got, end };
}

function connect(port: number, ip = '127.0.0.1', family: 4 | 6 = 4): Promise<{ h: uv.TcpHandle; status: number }> {
  const h = uv.createTcp();
  return new Promise((resolve) => {
    const err = uv.connect(h, ip, family, port, { afterConnect: (status) => resolve({ h, status }) });
    if (err !== 0) resolve({ h, status: err });
  });
}

describe('uv: the raw libuv handles of the L4 fast path', () => {
  it('finds its bindings on this Node', () => {
    expect(uv.available).toBe(true);
    expect(uv.UV_EOF).toBe(-4095);
  });

  it('connects, writes (sync), reads into the user buffer, half-closes and sees the peer FIN', async () => {
    const port = await echo();
    const { h, status } = await connect(port);
    cleanup.push(() => uv.close(h));
    expect(status).toBe(0);
    expect(uv.peerName(h)).toEqual({ ip: '127.0.0.1', port });
    expect(uv.sockName(h)?.ip).toBe('127.0.0.1');
    uv.setNoDelay(h, true);
    uv.setKeepAlive(h, true, 30_000);
    const r = reader(h);
    expect(uv.readStart(h)).toBe(0);
    const req = uv.writeReq(h, { afterWrite: () => undefined });
    expect(uv.writeBuffer(h, req, Buffer.from('hello '))).toBe(uv.WRITE_SYNC);
    expect(uv.writeBuffer(h, req, Buffer.from('world'))).toBe(uv.WRITE_SYNC); // reused after a synchronous write
    const shut = await new Promise<number>((resolve) => {
      const s = uv.shutdown(h, { afterShutdown: (st) => resolve(st) });
      if (s !== uv.SHUTDOWN_PENDING) resolve(s === uv.SHUTDOWN_DONE ? 0 : s);
    });
    expect(shut).toBe(0);
    expect(await r.end).toBe(uv.UV_EOF); // the echo server ends after our FIN
    expect(Buffer.concat(r.got).toString()).toBe('hello world');
  });

  it('reports a refused connect as a negative errno named by errname', async () => {
    const { h, status } = await connect(1); // tcpmux: nothing listens there
    uv.close(h);
    expect(status).toBeLessThan(0);
    expect(uv.errname(status)).toBe('ECONNREFUSED');
  });

  it('takes accepted connections on their handle, or leaves them to net', async () => {
    const viaNet: net.Socket[] = [];
    const server = net.createServer((s) => { viaNet.push(s); s.end('net'); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanup.push(() => server.close());
    let take = true;
    const taken: uv.TcpHandle[] = [];
    expect(uv.takeConnections(server, (h) => { if (!take) return false; taken.push(h); return true; })).toBe(true);
    const port = (server.address() as net.AddressInfo).port;
    const a = net.connect(port, '127.0.0.1');
    a.on('data', () => undefined);
    await once(a, 'connect');
    while (taken.length === 0) await new Promise((r) => setTimeout(r, 5));
    const h = taken[0] as uv.TcpHandle;
    const req = uv.writeReq(h, { afterWrite: () => undefined });
    expect(uv.writeBuffer(h, req, Buffer.from('raw'))).toBe(uv.WRITE_SYNC);
    uv.close(h);
    const got: Buffer[] = [];
    a.on('data', (d: Buffer) => got.push(d));
    await once(a, 'close');
    expect(Buffer.concat(got).toString()).toBe('raw');
    take = false;
    const b = net.connect(port, '127.0.0.1');
    let text = '';
    b.on('data', (d: Buffer) => { text += d.toString(); });
    await once(b, 'close');
    expect(text).toBe('net');
    expect(viaNet).toHaveLength(1);
  });
});
