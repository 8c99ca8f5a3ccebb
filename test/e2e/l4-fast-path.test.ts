import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { l4Fixtures, proxyV2Loopback, sendAndClose, talk, type InProcessL4 } from '../helpers/l4.js';

// The raw-handle fast path (src/l4/tcp-fast.ts): taken where the listener reads nothing before routing and the
// pool has no warm sockets or coalescing. Which path a connection took is seen on the 'net.server.socket'
// diagnostics channel, which net publishes for each accepted net.Socket and the fast path never does.

const { backends, l4, onCleanup } = l4Fixtures();

const single = (addrs: string[], pool: Record<string, unknown> = {}, listener: Record<string, unknown> = {}): Record<string, unknown> => ({
  listeners: [{ listen: '127.0.0.1:0', pool: 'p', ...listener }],
  pools: { p: { backends: addrs, ...pool } },
});

/** Counts the connections to `port` that net accepted as a net.Socket (the fallback path). */
function socketPathCount(port: () => number): { readonly n: number } {
  const seen = { n: 0 };
  const onSocket = (msg: unknown): void => {
    if ((msg as { socket: net.Socket }).socket.localPort === port()) seen.n++;
  };
  diagnostics.subscribe('net.server.socket', onSocket);
  onCleanup(async () => { diagnostics.unsubscribe('net.server.socket', onSocket); });
  return seen;
}

/** A server (net) that runs `onConn` for each connection, on 127.0.0.1. */
async function server(onConn: (s: net.Socket) => void, opts: net.ServerOpts = {}): Promise<string> {
  const srv = net.createServer(opts, (s) => { s.on('error', () => undefined); onConn(s); });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const sockets = new Set<net.Socket>();
  srv.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  onCleanup(() => new Promise((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }));
  return `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * An address whose connects hang: a stopped process listening with backlog 1, its accept queue filled first (the
 * kernel then drops further SYNs). Stays on 127.0.0.1.
 */
async function stalledListener(): Promise<string> {
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { process.stdout.write(this.address().port + '\\n') })"], { stdio: ['ignore', 'pipe', 'ignore'] });
  onCleanup(async () => { child.kill('SIGKILL'); });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  child.kill('SIGSTOP');
  const fillers = Array.from({ length: 4 }, () => net.connect(port, '127.0.0.1').on('error', () => undefined));
  onCleanup(async () => { for (const f of fillers) f.destroy(); });
  await sleep(200);
  return `127.0.0.1:${port}`;
}

describe('portico l4 fast path (raw libuv handles)', () => {
  it('forwards both ways on the fast path with one flow.end per connection and its fields', async () => {
    const bs = await backends('b1', 'b2');
    const x = await l4(single(bs.map((b) => b.address)));
    const viaNet = socketPathCount(() => x.port());
    expect(await talk(x.port(), 'hello')).toBe('b1:hello');
    expect(await talk(x.port(), 'again')).toBe('b2:again');
    const flows = await x.waitFlows(2);
    expect(viaNet.n).toBe(0);
    expect(flows[0]).toMatchObject({
      mode: 'l4', method: 'TCP', url: `tcp://${bs[0]!.address}`, bytesIn: 5, bytesOut: 8,
      notes: { pool: 'p', backend: bs[0]!.address, attempts: 1, close: 'client closed' },
    });
    expect(flows[0]!.client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(flows[0]!.timings.connect).toBeGreaterThanOrEqual(0);
    expect(x.lb.snapshot()[0]).toMatchObject({ backends: [{ connections: 1, active: 0 }, { connections: 1, active: 0 }] });
  });

  it('passes a backend FIN on while the client keeps sending (half-close from the backend side)', async () => {
    let gotAfterFin = '';
    const addr = await server((s) => {
      s.end('bye'); // FIN first, then keep reading
      s.setEncoding('latin1');
      s.on('data', (d: string) => { gotAfterFin += d; });
    }, { allowHalfOpen: true });
    const x = await l4(single([addr]));
    const c = net.connect({ port: x.port(), host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    c.setEncoding('latin1');
    c.on('data', (d: string) => { got += d; });
    await once(c, 'end'); // the backend's FIN reached the client
    expect(got).toBe('bye');
    c.end('still here');
    await once(c, 'close');
    const [f] = await x.waitFlows(1);
    expect(gotAfterFin).toBe('still here');
    expect(f).toMatchObject({ bytesIn: 10, bytesOut: 3, notes: { close: 'backend closed' } });
  });

  it('passes a client FIN on while the backend keeps sending (half-close from the client side)', async () => {
    const addr = await server((s) => {
      s.once('end', () => { // after the client's FIN: answer slowly, then close
        s.write('one,');
        setTimeout(() => s.end('two'), 50);
      });
      s.resume();
    }, { allowHalfOpen: true });
    const x = await l4(single([addr]));
    expect(await talk(x.port(), 'question')).toBe('one,two');
    const [f] = await x.waitFlows(1);
    expect(f).toMatchObject({ bytesIn: 8, bytesOut: 7, notes: { close: 'client closed' } });
  });

  it('moves 256 MiB to a slow reader with bounded memory (backpressure, lent buffers) and byte for byte', async () => {
    const total = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + 3) & 0xff;
    const addr = await server((s) => {
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!s.write(chunk)) { s.once('drain', pump); return; }
        }
        s.end();
      };
      pump();
    });
    const x = await l4(single([addr]));
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().arrayBuffers - base); }, 20);
    onCleanup(async () => clearInterval(sampler));
    const hash = createHash('sha256');
    let got = 0;
    let nextStall = 16 * 1024 * 1024;
    // The client reads into one buffer of its own (onread), so the memory sampled here is the proxy's.
    const c = net.connect({
      port: x.port(), host: '127.0.0.1', onread: {
        buffer: Buffer.alloc(64 * 1024),
        callback: (n: number, buf: Buffer): boolean => {
          hash.update(buf.subarray(0, n));
          got += n;
          if (got < nextStall) return true;
          nextStall += 16 * 1024 * 1024; // a slow reader: stalls long enough to fill every buffer on the way
          c.pause();
          setTimeout(() => c.resume(), 60);
          return false;
        },
      },
    });
    await once(c, 'close');
    clearInterval(sampler);
    const expected = createHash('sha256');
    for (let i = 0; i < total / chunk.length; i++) expected.update(chunk);
    expect(got).toBe(total);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    expect(peak).toBeLessThan(16 * 1024 * 1024); // a buffering proxy would hold most of the 256 MiB
    const [f] = await x.waitFlows(1);
    expect(f).toMatchObject({ bytesOut: total, notes: { close: 'backend closed' } });
  }, 60_000);

  it('retries a refused backend on another one and reports the first failure in the flow', async () => {
    const [b] = await backends('ok');
    // Port 1 (tcpmux, privileged): nothing listens there.
    const x = await l4(single(['127.0.0.1:1', b!.address], { balance: 'round-robin' }));
    const viaNet = socketPathCount(() => x.port());
    const answers = [await talk(x.port(), 'a'), await talk(x.port(), 'b')];
    expect(answers).toEqual(['ok:a', 'ok:b']);
    const flows = await x.waitFlows(2);
    const retried = flows.find((f) => f.notes.attempts === 2);
    expect(retried?.notes.pick).toBe('after 127.0.0.1:1 ECONNREFUSED');
    expect(retried?.notes.backend).toBe(b!.address);
    expect(viaNet.n).toBe(0);
    expect((x.lb.snapshot()[0] as { backends: Array<{ connectFailures: number }> }).backends[0]?.connectFailures).toBeGreaterThanOrEqual(1);
  });

  it('gives up a connect after connectTimeoutMs (a listener whose accept queue is full)', async () => {
    const x = await l4(single([await stalledListener()], { connectTimeoutMs: 300, maxAttempts: 1 }));
    const t0 = Date.now();
    expect(await talk(x.port(), 'x')).toBe('');
    const [f] = await x.waitFlows(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(f).toMatchObject({ error: { code: 'CONNECT_TIMEOUT' }, notes: { close: 'connect failed', attempts: 1 } });
    expect(f?.error?.message).toMatch(/ETIMEDOUT/);
  });

  it('does not retry for a client that reset while its backend was connecting (CLIENT_ABORTED)', async () => {
    const [b] = await backends('never');
    const x = await l4(single([await stalledListener(), b!.address], { connectTimeoutMs: 300, maxAttempts: 2 }));
    const c = net.connect(x.port(), '127.0.0.1').on('error', () => undefined);
    await once(c, 'connect');
    await sleep(50);
    c.resetAndDestroy();
    const [f] = await x.waitFlows(1);
    expect(f).toMatchObject({ error: { code: 'CLIENT_ABORTED' }, notes: { close: 'client closed' } });
    expect((x.lb.snapshot()[0] as { backends: Array<{ connections: number }> }).backends[1]?.connections).toBe(0);
  });

  it('closes an idle connection, not one that keeps talking', async () => {
    const bs = await backends('b');
    const x = await l4(single([bs[0]!.address], {}, { idleTimeoutMs: 200 }));
    const quiet = net.connect(x.port(), '127.0.0.1');
    quiet.on('data', () => undefined);
    const busy = net.connect(x.port(), '127.0.0.1');
    busy.on('data', () => undefined);
    const t0 = Date.now();
    const timer = setInterval(() => busy.write('.'), 50);
    onCleanup(async () => { clearInterval(timer); busy.destroy(); });
    await once(quiet, 'close');
    const idleFor = Date.now() - t0;
    expect(idleFor).toBeGreaterThanOrEqual(190);
    expect(idleFor).toBeLessThan(1500);
    await sleep(300);
    expect(busy.destroyed).toBe(false);
    const [f] = await x.waitFlows(1);
    expect(f?.notes.close).toBe('idle timeout');
  });

  it('names resets and shutdown as close reasons: client error, backend error, shutdown', async () => {
    const resetters = new Set<net.Socket>();
    const addr = await server((s) => { s.resume(); s.on('data', (d: Buffer) => { if (d.toString() === 'reset') s.resetAndDestroy(); else resetters.add(s); }); });
    const x = await l4(single([addr]));
    const a = net.connect(x.port(), '127.0.0.1').on('error', () => undefined);
    a.write('hold');
    while (resetters.size === 0) await sleep(5);
    a.resetAndDestroy(); // the client resets
    await x.waitFlows(1);
    const b = net.connect(x.port(), '127.0.0.1').on('error', () => undefined);
    b.write('reset'); // the backend resets
    await once(b, 'close');
    await x.waitFlows(2);
    const c = net.connect(x.port(), '127.0.0.1').on('error', () => undefined);
    c.write('hold');
    while (resetters.size < 2) await sleep(5);
    await x.lb.close(0); // the rest of the connections end at shutdown
    await x.waitFlows(3);
    expect(x.flows.map((f) => f.notes.close)).toEqual(['client error', 'backend error', 'shutdown']);
  });

  it('drains on close(grace): an established connection keeps working until the grace ends', async () => {
    const bs = await backends('b');
    const x = await l4(single([bs[0]!.address]));
    const c = net.connect(x.port(), '127.0.0.1');
    let got = '';
    c.setEncoding('latin1');
    c.on('data', (d: string) => { got += d; });
    c.write('1;');
    while (!got.includes('1;')) await sleep(5);
    const closing = x.lb.close(300);
    await sleep(50);
    c.write('2;');
    while (!got.includes('2;')) await sleep(5);
    await closing;
    await once(c, 'close');
    expect(got).toBe('b:1;2;');
    const [f] = await x.waitFlows(1);
    expect(f?.notes.close).toBe('shutdown');
  });

  it('sends a PROXY v2 header with the client and listener addresses first (getpeername/getsockname)', async () => {
    const [b] = await backends('pp');
    const x = await l4(single([b!.address], { proxyProtocol: 'v2' }));
    const viaNet = socketPathCount(() => x.port());
    const clientPort = await sendAndClose(x.port(), 'payload');
    await x.waitFlows(1);
    const all = Buffer.concat(b!.firstBytes);
    const expected = proxyV2Loopback(clientPort, x.port());
    expect(all.subarray(0, expected.length).toString('hex')).toBe(expected.toString('hex'));
    expect(all.subarray(expected.length).toString()).toBe('payload');
    expect(viaNet.n).toBe(0);
  });

  it('dials IPv6 literals and host names (dns.lookup, each address in turn)', async () => {
    const v6 = net.createServer((s) => s.end('six'));
    v6.listen(0, '::1');
    await once(v6, 'listening');
    onCleanup(() => new Promise((r) => v6.close(() => r())));
    const [b] = await backends('named');
    const x = await l4({
      listeners: [{ listen: '127.0.0.1:0', pool: 'six' }, { listen: '127.0.0.1:0', pool: 'named' }],
      pools: { six: { backends: [`[::1]:${(v6.address() as net.AddressInfo).port}`] }, named: { backends: [`localhost:${b!.port}`] } },
    });
    expect(await talk(x.port(0), '')).toBe('six');
    expect(await talk(x.port(1), 'hi')).toBe('named:hi');
  });

  it('falls back to net.Socket when the fast path is off (PORTICO_L4_FAST_PATH=0), with the same transfer', async () => {
    const bs = await backends('b');
    const before = process.env.PORTICO_L4_FAST_PATH;
    process.env.PORTICO_L4_FAST_PATH = '0';
    let x: InProcessL4;
    try {
      x = await l4(single([bs[0]!.address]));
    } finally {
      if (before === undefined) delete process.env.PORTICO_L4_FAST_PATH;
      else process.env.PORTICO_L4_FAST_PATH = before;
    }
    const viaNet = socketPathCount(() => x.port());
    expect(await talk(x.port(), 'fallback')).toBe('b:fallback');
    const [f] = await x.waitFlows(1);
    expect(viaNet.n).toBe(1);
    expect(f).toMatchObject({ bytesIn: 8, bytesOut: 10, notes: { attempts: 1 } });
  });

  it('keeps net.Socket for listeners that read before routing (trusted PROXY senders) and for coalescing pools', async () => {
    const bs = await backends('b');
    const x = await l4({
      listeners: [
        { listen: '127.0.0.1:0', pool: 'p', acceptProxyProtocol: { trusted: ['10.0.0.0/8'] } },
        { listen: '127.0.0.1:0', pool: 'c' },
      ],
      pools: { p: { backends: [bs[0]!.address] }, c: { backends: [bs[0]!.address], coalesceWindowMs: 1 } },
    });
    const p0 = socketPathCount(() => x.port(0));
    const p1 = socketPathCount(() => x.port(1));
    expect(await talk(x.port(0), 'x')).toBe('b:x');
    expect(await talk(x.port(1), 'y')).toBe('b:y');
    expect([p0.n, p1.n]).toEqual([1, 1]);
  });
});
