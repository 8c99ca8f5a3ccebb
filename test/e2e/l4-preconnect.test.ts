import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startL4InProcess, talk, type InProcessL4 } from '../helpers/l4.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

/** A backend that greets with `NAME:` and echoes, and knows which of its connections have carried a client byte. */
interface Backend {
  readonly address: string;
  /** Connections accepted since the start. */
  accepted(): number;
  /** Connections open now that have received nothing (pre-connected, waiting for a client). */
  idle(): net.Socket[];
  open(): number;
  firstBytes: Buffer[];
  close(): Promise<void>;
}

async function backend(name: string): Promise<Backend> {
  const sockets = new Map<net.Socket, { used: boolean }>();
  const firstBytes: Buffer[] = [];
  let accepted = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted++;
    const st = { used: false };
    sockets.set(s, st);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => { st.used = true; firstBytes.push(d); });
    s.write(`${name}:`);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const b: Backend = {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    accepted: () => accepted,
    idle: () => [...sockets].filter(([, st]) => !st.used).map(([s]) => s),
    open: () => sockets.size,
    firstBytes,
    close: () => new Promise((resolve) => { for (const s of sockets.keys()) s.destroy(); server.close(() => resolve()); }),
  };
  cleanup.push(() => b.close());
  return b;
}

async function l4(pool: Record<string, unknown>): Promise<InProcessL4> {
  const x = await startL4InProcess({ listeners: [{ listen: '127.0.0.1:0', pool: 'p' }], pools: { p: pool } });
  cleanup.push(() => x.lb.close(0));
  return x;
}

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const warmOf = (x: InProcessL4): number => ((x.lb.snapshot()[0] as { backends: Array<{ warm?: number }> }).backends[0]?.warm ?? -1);

describe('portico l4 backend pre-connect', () => {
  it('opens perBackend sockets after the first client; the next client gets one at once, greeting first', async () => {
    const b = await backend('b1');
    const x = await l4({ backends: [b.address], preconnect: { perBackend: 2 } });
    expect(b.accepted()).toBe(0); // nothing before a client was sent to the backend
    expect(await talk(x.port(), 'one')).toBe('b1:one');
    await until('2 warm sockets', () => warmOf(x) === 2 && b.idle().length === 2);
    // The warm socket already holds the backend's greeting: it reaches the client before the echo.
    expect(await talk(x.port(), 'two')).toBe('b1:two');
    const flows = await x.waitFlows(2);
    expect(flows[1]).toMatchObject({ timings: { connect: 0 }, notes: { attempts: 1, backend: b.address } });
    await until('topped up again', () => warmOf(x) === 2);
    expect(b.accepted()).toBe(4); // 1 dialled + 2 warm + 1 refill
  });

  it('never hands out a warm socket the backend closed or reset; the client is dialled afresh', async () => {
    const b = await backend('b1');
    const x = await l4({ backends: [b.address], preconnect: { perBackend: 2 } });
    expect(await talk(x.port(), 'a')).toBe('b1:a');
    await until('2 warm sockets', () => b.idle().length === 2);
    const [first, second] = b.idle();
    first!.end(); // FIN
    second!.resetAndDestroy(); // RST
    await until('warm sockets dropped', () => warmOf(x) === 0);
    for (let i = 0; i < 3; i++) expect(await talk(x.port(), `r${i}`)).toBe(`b1:r${i}`);
    const flows = await x.waitFlows(4);
    expect(flows.map((f) => f.error)).toEqual([undefined, undefined, undefined, undefined]);
    expect(flows[1]!.timings.connect).toBeGreaterThan(0); // dialled: there was no warm socket left
  });

  it('a PROXY-protocol pool never pre-connects (its header names the client), and asking for it is a config error', async () => {
    const b = await backend('pp');
    const x = await l4({ backends: [b.address], proxyProtocol: 'v1' });
    for (let i = 0; i < 3; i++) expect(await talk(x.port(), `c${i}`)).toMatch(new RegExp(`^pp:PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ \\d+\\r\\nc${i}$`));
    await new Promise((r) => setTimeout(r, 100));
    expect(b.accepted()).toBe(3);
    expect(b.firstBytes.every((d) => d.toString('latin1').startsWith('PROXY TCP4 '))).toBe(true);
    expect(warmOf(x)).toBe(-1); // no warm field: the pool has no pre-connect
    await expect(startL4InProcess({ listeners: [{ listen: '127.0.0.1:0', pool: 'p' }], pools: { p: { backends: [b.address], proxyProtocol: 'v2', preconnect: { perBackend: 1 } } } }))
      .rejects.toThrow(/proxyProtocol cannot pre-connect/);
  });

  it('closes warm sockets idle for maxIdleMs, and on close', async () => {
    const b = await backend('b1');
    const x = await l4({ backends: [b.address], preconnect: { perBackend: 3, maxIdleMs: 100 } });
    expect(await talk(x.port(), 'a')).toBe('b1:a');
    await until('3 warm sockets', () => b.idle().length === 3);
    await until('expired (the pool sweeps once a second)', () => b.open() === 0 && warmOf(x) === 0, 3000);
    expect(await talk(x.port(), 'b')).toBe('b1:b');
    await until('3 warm sockets again', () => b.idle().length === 3);
    await x.lb.close(0);
    await until('closed with the balancer', () => b.open() === 0);
  });

  it('a draining balancer closes its warm sockets at once; a reload closes the old pool\'s', async () => {
    const b = await backend('b1');
    const x = await l4({ backends: [b.address], preconnect: { perBackend: 2 } });
    expect(await talk(x.port(), 'a')).toBe('b1:a');
    await until('2 warm sockets', () => b.idle().length === 2);
    const { validateConfig } = await import('../../src/config/load.js');
    const { l4ConfigSchema } = await import('../../src/l4/config.js');
    await x.lb.reload(validateConfig(l4ConfigSchema, { listeners: [{ listen: '127.0.0.1:0', pool: 'p' }], pools: { p: { backends: [b.address], preconnect: { perBackend: 1 } } } }, 'reload'));
    await until('old warm sockets closed', () => b.open() === 0);
    expect(await talk(x.port(), 'b')).toBe('b1:b');
    await until('1 warm socket of the new pool', () => b.idle().length === 1);
    const live = net.connect(x.port(), '127.0.0.1');
    live.on('data', () => undefined).on('error', () => undefined);
    live.write('live');
    await until('live connection up', () => b.open() === 2 && b.idle().length === 1);
    const closing = x.lb.close(10_000); // waits for `live`, but warm sockets have no client to wait for
    await until('warm socket closed during the drain', () => b.idle().length === 0);
    expect(b.open()).toBe(1);
    live.end();
    await closing;
  });

  it('counts warm sockets in maxConnectionsPerBackend', async () => {
    const b = await backend('b1');
    const x = await l4({ backends: [b.address], maxConnectionsPerBackend: 2, preconnect: { perBackend: 4 } });
    const held = net.connect(x.port(), '127.0.0.1');
    held.on('data', () => undefined).on('error', () => undefined);
    held.write('hold');
    await until('one used and one warm', () => b.open() === 2 && warmOf(x) === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.open()).toBe(2); // never more than the cap, warm ones included
    expect(await talk(x.port(), 'w')).toBe('b1:w'); // takes the warm one: no new connection beyond the cap
    held.destroy();
    await until('back within the cap', () => b.open() <= 2);
  });
});
