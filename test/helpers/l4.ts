import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import pino from 'pino';
import { afterEach } from 'vitest';
import { createEventBus, type ProxyEvent } from '../../src/core/events.js';
import type { FlowRecord } from '../../src/core/flow.js';
import { validateConfig } from '../../src/config/load.js';
import { l4ConfigSchema, type L4Config } from '../../src/l4/config.js';
import { startL4, type L4Balancer } from '../../src/l4/server.js';

export interface TcpEcho {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** Bytes each connection sent before anything else, in arrival order (PROXY header checks). */
  readonly firstBytes: Buffer[];
  close(): Promise<void>;
}

/** A TCP backend that greets with `NAME:` and echoes everything back; half-close aware. */
export async function startTcpEcho(name: string, port = 0): Promise<TcpEcho> {
  const sockets = new Set<net.Socket>();
  const firstBytes: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => firstBytes.push(d));
    s.write(`${name}:`);
    s.pipe(s);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const p = (server.address() as net.AddressInfo).port;
  return {
    name, port: p, address: `127.0.0.1:${p}`, firstBytes,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** Connects, sends `payload`, half-closes, and resolves with everything received until the server closes. */
export async function talk(port: number, payload: string | Buffer, host = '127.0.0.1'): Promise<string> {
  const s = net.connect({ port, host, allowHalfOpen: true });
  let out = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => { out += d; });
  s.end(payload);
  const timer = setTimeout(() => s.destroy(new Error(`no close within 15 s (got "${out.slice(0, 80)}")`)), 15_000);
  try {
    await new Promise<void>((resolve, reject) => { s.once('close', () => resolve()); s.once('error', reject); });
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/**
 * Sends `payload` from a new connection, half-closes and waits until the connection has closed; resolves with the
 * client's port, which a PROXY header in front of the payload must name.
 */
export async function sendAndClose(port: number, payload: string): Promise<number> {
  const client = net.connect(port, '127.0.0.1');
  client.resume();
  await once(client, 'connect');
  const clientPort = client.localPort ?? 0;
  client.end(payload);
  await once(client, 'close');
  return clientPort;
}

/**
 * The PROXY v2 header for TCP over IPv4 from 127.0.0.1:clientPort to 127.0.0.1:listenerPort, written out from the
 * specification's bytes (signature, PROXY command, TCP4, 12 address bytes), not with Portico's encoder.
 */
export function proxyV2Loopback(clientPort: number, listenerPort: number): Buffer {
  return Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a2111000c7f0000017f000001', 'hex'),
    Buffer.from([clientPort >> 8, clientPort & 0xff, listenerPort >> 8, listenerPort & 0xff])]);
}

export interface UdpEcho { readonly name: string; readonly port: number; readonly address: string; close(): Promise<void> }

/** A UDP backend answering each datagram with `NAME:` + the datagram. */
export async function startUdpEcho(name: string): Promise<UdpEcho> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => socket.send(Buffer.concat([Buffer.from(`${name}:`), msg]), rinfo.port, rinfo.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const port = socket.address().port;
  return { name, port, address: `127.0.0.1:${port}`, close: () => new Promise((r) => socket.close(() => r())) };
}

export interface InProcessL4 {
  readonly lb: L4Balancer;
  readonly flows: FlowRecord[];
  readonly events: ProxyEvent[];
  /** Port of listener i. */
  port(i?: number): number;
  /** Resolves once n flows have ended. */
  waitFlows(n: number, timeoutMs?: number): Promise<FlowRecord[]>;
}

/** Starts the L4 balancer in this process with a config object (validated like l4.yaml), collecting events. */
export async function startL4InProcess(input: Record<string, unknown>): Promise<InProcessL4> {
  const config: L4Config = validateConfig(l4ConfigSchema, input, 'test');
  const bus = createEventBus();
  const flows: FlowRecord[] = [];
  const events: ProxyEvent[] = [];
  bus.subscribe((e) => { events.push(e); if (e.type === 'flow.end') flows.push(e.flow); });
  const lb = await startL4(config, { log: pino({ level: 'silent' }), bus });
  return {
    lb, flows, events,
    port: (i = 0) => Number(new URL(lb.urls()[i] ?? '').port),
    waitFlows: async (n, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (flows.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${flows.length} of ${n} flows ended`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return flows;
    },
  };
}

/** What each L4 test file opens per test: echo backends and in-process balancers, closed after every test. */
export interface L4Fixtures {
  backends(...names: string[]): Promise<TcpEcho[]>;
  l4(input: Record<string, unknown>): Promise<InProcessL4>;
  /** Runs after the test, before the fixtures opened earlier (last opened, first closed); failures are ignored. */
  onCleanup(fn: () => Promise<void>): void;
}

/** Call at a test file's top level: registers the afterEach that closes what the tests opened through it. */
export function l4Fixtures(): L4Fixtures {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });
  return {
    async backends(...names) {
      const bs = await Promise.all(names.map((n) => startTcpEcho(n)));
      for (const b of bs) cleanup.push(() => b.close());
      return bs;
    },
    async l4(input) {
      const x = await startL4InProcess(input);
      cleanup.push(() => x.lb.close(0));
      return x;
    },
    onCleanup: (fn) => { cleanup.push(fn); },
  };
}
