import net, { type BlockList, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { Drain } from '../forward/drain.js';
import { unmapIPv4 } from './address.js';
import type { L4ListenerConfig } from './config.js';
import { dialWithRetry, socketDialer, type Dialed, type SocketConn } from './dial.js';
import { splice, type Splice } from './pipe.js';
import type { L4Pool } from './pool.js';
import { readPreface } from './preface.js';
import { encodeV1, encodeV2, parseProxyHeader, type Endpoint } from './proxy-protocol.js';
import { l4Record, type L4FlowInfo } from './record.js';
import type { SniRouter } from './routes.js';
import { peekSni } from './sni-peek.js';
import { FastAccept, fastPool } from './tcp-fast.js';
import * as uv from './uv.js';

/** What a listener routes by; swapped as a whole on reload (connections keep the one they started with). */
export interface ListenerRoutes {
  readonly config: L4ListenerConfig;
  readonly pools: ReadonlyMap<string, L4Pool>;
  readonly router: SniRouter | undefined;
  readonly defaultPool: string | undefined;
  /** Peers that must send a PROXY header (their client address replaces the socket's). */
  readonly trusted: BlockList | undefined;
  readonly idleTimeoutMs: number;
}

export interface ListenerDeps {
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly nextId: () => string;
  readonly log: Logger;
  /**
   * Take eligible connections on raw libuv handles (tcp-fast.ts); default: when uv.ts finds its bindings and the
   * environment does not say PORTICO_L4_FAST_PATH=0. False keeps every connection on net.Socket.
   */
  readonly fastPath?: boolean;
}

/** How a connection ended: what its flow.end record holds besides the listener's own fields. */
export interface ConnEnd {
  readonly peer: Endpoint | undefined;
  readonly pool: string | undefined;
  readonly sni: string | undefined;
  /** Monotonic and wall-clock start, ms. */
  readonly start: number;
  readonly startedAt: number;
  readonly error: ProxyError | undefined;
  readonly close: string;
  readonly attempts: number;
  readonly pick: string | undefined;
  readonly backend: string | undefined;
  readonly connectMs: number | undefined;
  /** From the client, and to it. */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** The fast path is on unless the deps or the environment turn it off, and only where uv.ts found its bindings. */
const fastPathWanted = (deps: ListenerDeps): boolean => uv.available && (deps.fastPath ?? process.env.PORTICO_L4_FAST_PATH !== '0');

const EMPTY = Buffer.alloc(0);
/** A record subscribed to after the connection began and closed before its peer was read. */
const UNKNOWN_PEER: Endpoint = { ip: '', port: 0 };

/**
 * The client's address, read once (`remoteAddress` is a getpeername call): for a trusted-sender check, a hash or
 * stick key, a PROXY header or the flow record. A plain round-robin pool with nobody recording flows never asks.
 */
function peerOf(client: Socket, conn: Conn): Endpoint {
  return conn.peer ??= { ip: unmapIPv4(client.remoteAddress ?? ''), port: client.remotePort ?? 0 };
}

/** One connection's state while it is set up (preface, routing, dial). */
interface Conn {
  /** The client: read (getpeername) only when something needs it, see `peerOf`. */
  peer: Endpoint | undefined;
  /** The address the client connected to: from a trusted PROXY header, else read when a PROXY header needs it. */
  dest: Endpoint | undefined;
  preface: Buffer;
  sni: string | undefined;
  pool: string | undefined;
  readonly aborted: { aborted: boolean };
}

/** A TCP listener: accept, limits, PROXY header in, SNI peek, dial with retry, splice, one flow per connection. */
export class TcpListener {
  private readonly server: net.Server;
  private readonly drain = new Drain();
  private readonly clients = new Map<Socket, Splice | undefined>();
  private address = '';
  /** Connections taken on raw handles (undefined: every connection is a net.Socket). */
  private fast: FastAccept | undefined;
  refused = 0;

  constructor(private routes: ListenerRoutes, private readonly deps: ListenerDeps) {
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (s) => this.accept(s));
  }

  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = this.routes.config.listen;
    this.server.listen({ host, port, backlog: 1024 });
    await once(this.server, 'listening');
    if (fastPathWanted(this.deps)) {
      const fast = new FastAccept(this.deps, (end) => this.ended(end));
      if (uv.takeConnections(this.server, (h) => this.acceptHandle(fast, h))) this.fast = fast;
    }
    const a = this.server.address() as net.AddressInfo;
    this.address = `${host.includes(':') ? `[${host}]` : host}:${a.port}`;
    return { host, port: a.port };
  }

  get url(): string { return `tcp://${this.address}`; }
  get active(): number { return this.drain.inFlight; }

  update(routes: ListenerRoutes): void { this.routes = routes; }

  /** Stops accepting; established connections get up to graceMs, then the rest are closed ('shutdown'). */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.drain.idle(graceMs);
    for (const [socket, s] of this.clients) {
      if (s !== undefined) s.stop('shutdown');
      else socket.destroy();
    }
    this.fast?.stopAll('shutdown');
    this.fast?.close();
    await closed;
  }

  /** A new connection on its raw handle: taken by the fast path when the listener's routing allows (see fastPool). */
  private acceptHandle(fast: FastAccept, h: uv.TcpHandle): boolean {
    const r = this.routes;
    const pool = fastPool(r);
    if (pool === undefined) return false; // net's own accept: a net.Socket for `accept`
    const limit = r.config.maxConnections;
    if (limit > 0 && this.drain.inFlight >= limit) {
      this.refused++;
      uv.close(h);
      return true;
    }
    this.drain.begin();
    fast.accept(h, r, pool);
    return true;
  }

  private accept(client: Socket): void {
    const r = this.routes;
    const limit = r.config.maxConnections;
    if (limit > 0 && this.drain.inFlight >= limit) {
      this.refused++;
      client.destroy();
      return;
    }
    this.drain.begin();
    this.clients.set(client, undefined);
    client.on('error', () => undefined); // errors end the connection through 'close'
    const start = this.deps.clock.monotonic();
    const startedAt = this.deps.clock.now();
    const conn: Conn = {
      peer: undefined,
      dest: undefined,
      preface: EMPTY, sni: undefined, pool: r.defaultPool, aborted: { aborted: false },
    };
    // The flow record names the client, and a closed socket no longer knows its peer: read it now if one is wanted.
    if (this.deps.bus.wants('flow.end')) peerOf(client, conn);
    client.once('close', () => { conn.aborted.aborted = true; });
    const fail = (error: ProxyError, close: string, attempts = 0, detail?: string): void => {
      client.destroy();
      this.finish(client, conn, start, startedAt, { error, close, attempts, pick: detail });
    };
    const dial = (pool: L4Pool | undefined): void => {
      if (pool === undefined) return fail(new ProxyError('NO_HEALTHY_BACKEND', `no pool for ${conn.sni === undefined ? 'this connection' : `server name ${conn.sni}`}`), 'no pool');
      const key = pool.keyed ? peerOf(client, conn).ip : ''; // only hash pickers and stick tables read the client IP
      dialWithRetry(pool, key, this.deps.clock, conn.aborted, socketDialer, (d) => {
        if ('error' in d) return fail(d.error, d.error.code === 'CLIENT_ABORTED' ? 'client closed' : 'connect failed', d.attempts, d.failures.join(', ') || undefined);
        this.connected(client, conn, pool, key, d, r, start, startedAt);
      });
    };
    // Nothing to read before routing (no trusted PROXY sender, no SNI routes): dial at once, no promise in between.
    if (r.router === undefined && !this.mustSendProxyHeader(client, conn, r)) return dial(conn.pool === undefined ? undefined : r.pools.get(conn.pool));
    this.setUp(client, conn, r).then(dial,
      (err: unknown) => fail(new ProxyError('BAD_REQUEST', err instanceof Error ? err.message : String(err)), 'bad preface'));
  }

  /** A peer in `acceptProxyProtocol.trusted` must open with a PROXY header. */
  private mustSendProxyHeader(client: Socket, conn: Conn, r: ListenerRoutes): boolean {
    if (r.trusted === undefined) return false;
    const { ip } = peerOf(client, conn);
    return r.trusted.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
  }

  /** Reads what must be read before a backend can be chosen: a trusted peer's PROXY header, the ClientHello. */
  private async setUp(client: Socket, conn: Conn, r: ListenerRoutes): Promise<L4Pool | undefined> {
    const c = r.config;
    if (this.mustSendProxyHeader(client, conn, r)) {
      const timeoutMs = c.acceptProxyProtocol?.timeoutMs ?? 5_000;
      const buf = await readPreface(client, EMPTY, (b) => (parseProxyHeader(b).kind === 'incomplete' ? 'more' : 'enough'),
        { maxBytes: 4096 + 16, timeoutMs, what: 'PROXY header' });
      const pp = parseProxyHeader(buf);
      if (pp.kind !== 'ok') throw new Error(`PROXY header from ${peerOf(client, conn).ip}: ${pp.kind === 'invalid' ? pp.reason : 'incomplete'}`);
      if (pp.addresses !== undefined) { conn.peer = pp.addresses.source; conn.dest = pp.addresses.destination; }
      conn.preface = buf.subarray(pp.length);
    }
    if (r.router !== undefined) {
      const max = c.maxSniBytes;
      conn.preface = await readPreface(client, conn.preface, (b) => (peekSni(b, max).kind === 'incomplete' ? 'more' : 'enough'),
        { maxBytes: max, timeoutMs: c.sniPeekTimeoutMs, what: 'TLS ClientHello' });
      const routed = r.router.route(peekSni(conn.preface, max));
      conn.sni = routed.sni;
      conn.pool = routed.pool;
    }
    return conn.pool === undefined ? undefined : r.pools.get(conn.pool);
  }

  private connected(client: Socket, conn: Conn, pool: L4Pool, key: string, d: Dialed<SocketConn>, r: ListenerRoutes, start: number, startedAt: number): void {
    const backend = d.conn.socket;
    if (conn.aborted.aborted || client.destroyed) {
      backend.destroy();
      this.finish(client, conn, start, startedAt, { error: new ProxyError('CLIENT_ABORTED', 'client closed while connecting'), close: 'client closed', attempts: d.attempts, pick: undefined });
      return;
    }
    const c = pool.config;
    pool.connected(d.backend, key, this.deps.clock.monotonic());
    pool.warm?.fill(d.backend); // counted now: the next client to this backend finds a socket ready, within its cap
    client.setNoDelay(c.noDelay);
    if (c.keepAlive.enabled) client.setKeepAlive(true, c.keepAlive.initialDelayMs);
    const header = c.proxyProtocol === 'off' ? undefined
      : (c.proxyProtocol === 'v1' ? encodeV1 : encodeV2)({
        source: peerOf(client, conn), transport: 'stream',
        destination: conn.dest ?? { ip: unmapIPv4(client.localAddress ?? ''), port: client.localPort ?? 0 },
      });
    if (header !== undefined || conn.preface.length > 0) {
      backend.write(header === undefined ? conn.preface : conn.preface.length === 0 ? header : Buffer.concat([header, conn.preface]));
    }
    const pick = d.sticky ? `stick table: ${d.backend.id}` : d.failures.length > 0 ? `after ${d.failures.join(', ')}` : undefined;
    const s = splice(client, backend, d.conn.reads, { idleTimeoutMs: r.idleTimeoutMs, coalesceWindowMs: c.coalesceWindowMs }, (close) => {
      pool.released(d.backend, key, this.deps.clock.monotonic());
      this.finish(client, conn, start, startedAt, { error: undefined, close, attempts: d.attempts, pick, backend: d.backend.id, connectMs: d.connectMs });
    });
    this.clients.set(client, s);
  }

  private finish(client: Socket, conn: Conn, start: number, startedAt: number,
    end: { error: ProxyError | undefined; close: string; attempts: number; pick: string | undefined; backend?: string; connectMs?: number }): void {
    this.clients.delete(client);
    this.ended(!this.deps.bus.wants('flow.end') ? undefined : {
      peer: conn.peer, pool: conn.pool, sni: conn.sni, start, startedAt, error: end.error, close: end.close,
      attempts: end.attempts, pick: end.pick, backend: end.backend, connectMs: end.connectMs,
      bytesIn: client.bytesRead, bytesOut: client.bytesWritten,
    });
  }

  /** One connection ended (either path): out of the drain count, and its flow.end when someone listens. */
  private ended(end: ConnEnd | undefined): void {
    this.drain.end();
    if (end === undefined || !this.deps.bus.wants('flow.end')) return; // nobody listens: build nothing
    const peer = end.peer ?? UNKNOWN_PEER;
    const info: L4FlowInfo = {
      id: this.deps.nextId(), protocol: 'tcp', startedAt: end.startedAt, client: `${peer.ip}:${peer.port}`, listener: this.address,
      listenerName: this.routes.config.name, pool: end.pool, backend: end.backend, attempts: end.attempts, pick: end.pick, sni: end.sni,
      bytesIn: end.bytesIn, bytesOut: end.bytesOut, connectMs: end.connectMs,
      durationMs: this.deps.clock.monotonic() - end.start, close: end.close, error: end.error,
    };
    this.deps.bus.emit({ type: 'flow.end', flow: l4Record(info) });
  }
}
