import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { HandleWriter } from '../../../src/l4/handle-writer.js';
import * as uv from '../../../src/l4/uv.js';

const cleanup: Array<() => void> = [];
afterEach(() => { for (const c of cleanup.splice(0).reverse()) c(); });

/** A server on 127.0.0.1 that keeps what each connection sent; `ended` resolves with it at the client's FIN or close. */
async function collector(): Promise<{ port: number; ended: Array<Promise<string>> }> {
  const ended: Array<Promise<string>> = [];
  const server = net.createServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    ended.push(new Promise((resolve) => s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, ended };
}

function connect(port: number): Promise<uv.TcpHandle> {
  const h = uv.createTcp();
  return new Promise((resolve, reject) => {
    const err = uv.connect(h, '127.0.0.1', 4, port, { afterConnect: (status) => (status === 0 ? resolve(h) : reject(new Error(uv.errname(status)))) });
    if (err !== 0) reject(new Error(uv.errname(err)));
  });
}

/** A writer whose afterWrite statuses are recorded (and settled, as every owner does first). */
function recording(h: uv.TcpHandle, onAfter?: (w: HandleWriter, status: number) => void): { w: HandleWriter; statuses: number[] } {
  const statuses: number[] = [];
  const sink = { afterWrite: (status: number): void => { w.settled(); statuses.push(status); onAfter?.(w, status); } };
  const w = new HandleWriter(h, sink);
  return { w, statuses };
}

const checkPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function shutdownAndClose(h: uv.TcpHandle): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => { uv.close(h); resolve(); };
    if (uv.shutdown(h, { afterShutdown: done }) !== uv.SHUTDOWN_PENDING) done();
  });
}

describe('HandleWriter: writes go out in one batch per event-loop turn', () => {
  it('holds writes until the check phase, then sends each handle\'s in order as one writev', async () => {
    const { port, ended } = await collector();
    const [ha, hb] = [await connect(port), await connect(port)];
    const a = recording(ha);
    const b = recording(hb);
    a.w.write('GET /a HTTP/1.1\r\n');
    b.w.write(Buffer.from('b-one '));
    a.w.write(Buffer.from('Host: a\r\n\r\n'));
    b.w.write('b-two');
    // Nothing is written yet: both writes of a are queued, no completion has been reported.
    expect(a.w.queued).toBe(2);
    expect(a.w.queuedBytes).toBe('GET /a HTTP/1.1\r\n'.length + 'Host: a\r\n\r\n'.length);
    expect(a.statuses).toEqual([]);
    await checkPhase();
    // Two writes of a handle in one turn became one write: one completion settles both.
    expect(a.statuses).toEqual([0]);
    expect(b.statuses).toEqual([0]);
    expect([a.w.queued, a.w.queuedBytes, b.w.queued]).toEqual([0, 0, 0]);
    await Promise.all([shutdownAndClose(ha), shutdownAndClose(hb)]);
    expect((await Promise.all(ended)).sort()).toEqual(['GET /a HTTP/1.1\r\nHost: a\r\n\r\n', 'b-one b-two']);
  });

  it('sends a write made by an afterWrite during the flush (the next response on a kept-alive connection)', async () => {
    const { port, ended } = await collector();
    const h = await connect(port);
    let followUps = 0;
    const r = recording(h, (w) => { if (followUps++ < 2) w.write(`next${followUps} `); });
    r.w.write('first ');
    await checkPhase();
    await checkPhase();
    await checkPhase();
    expect(r.statuses).toEqual([0, 0, 0]);
    await shutdownAndClose(h);
    expect(await ended[0]).toBe('first next1 next2 ');
  });

  it('keeps the order when an afterWrite writes and flushes from inside the flush', async () => {
    const { port, ended } = await collector();
    const h = await connect(port);
    let first = true;
    const r = recording(h, (w) => {
      if (!first) return;
      first = false;
      w.write('c'); // made inside the flush of a and b
      w.flush(); // from inside the flush: goes on after them
    });
    r.w.write('a');
    r.w.write('b');
    await checkPhase();
    await checkPhase();
    expect(r.statuses).toEqual([0, 0]); // a and b in one writev, then c
    expect([r.w.queued, r.w.queuedBytes]).toEqual([0, 0]);
    await shutdownAndClose(h);
    expect(await ended[0]).toBe('abc');
  });

  it('flush() writes at once, so a shutdown right after it sends the FIN after the data', async () => {
    const { port, ended } = await collector();
    const h = await connect(port);
    const r = recording(h);
    r.w.write('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    r.w.flush();
    expect(r.statuses).toEqual([0]); // taken by the kernel now, reported now
    await shutdownAndClose(h);
    expect(await ended[0]).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
  });

  it('cancel() drops what is batched: nothing is written to the closing handle and no afterWrite follows', async () => {
    const { port, ended } = await collector();
    const h = await connect(port);
    const r = recording(h);
    r.w.write('never sent');
    r.w.cancel();
    uv.close(h);
    r.w.write('nor this');
    await checkPhase();
    expect(r.statuses).toEqual([]);
    expect(await ended[0]).toBe('');
  });

  it('a writev the kernel does not take whole completes through libuv with every part intact, in order', async () => {
    const { port, ended } = await collector();
    const h = await connect(port);
    const parts = [Buffer.alloc(8 * 1024 * 1024, 0x61), Buffer.alloc(8 * 1024 * 1024, 0x62), Buffer.alloc(8 * 1024 * 1024, 0x63)];
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const r = recording(h, () => done());
    r.w.write('HEAD ');
    for (const p of parts) r.w.write(p);
    expect(r.w.queued).toBe(4);
    await checkPhase();
    expect(r.w.queued).toBe(1); // one write in libuv's hands
    await finished;
    expect(r.statuses).toEqual([0]);
    expect([r.w.queued, r.w.queuedBytes]).toEqual([0, 0]);
    await shutdownAndClose(h);
    const got = (await ended[0]) ?? '';
    expect(got.length).toBe(5 + 24 * 1024 * 1024);
    expect([got.slice(0, 5), got[5], got[5 + 8 * 1024 * 1024], got[5 + 16 * 1024 * 1024], got.at(-1)]).toEqual(['HEAD ', 'a', 'b', 'c', 'c']);
  });

  it('a write the kernel does not take whole completes through libuv, counted as queued until then', async () => {
    const { port, ended } = await collector();
    const h = await connect(port);
    const big = Buffer.alloc(32 * 1024 * 1024, 0x61);
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const r = recording(h, () => done());
    r.w.write(big);
    await checkPhase();
    expect(r.w.queuedBytes).toBe(big.length); // 32 MiB exceed loopback's socket buffers: libuv holds the rest
    await finished;
    expect(r.statuses).toEqual([0]);
    expect(r.w.queuedBytes).toBe(0);
    await shutdownAndClose(h);
    expect((await ended[0])?.length).toBe(big.length);
  });
});
