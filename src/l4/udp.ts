import dgram from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import { ProxyError } from '../core/errors.js';
import { unmapIPv4 } from './address.js';
import type { L4Backend } from './backend.js';
import { encodeV2, type Endpoint } from './proxy-protocol.js';
import { l4Record } from './record.js';
import type { L4Pool } from './pool.js';
import { SessionTable, type Timed } from './sessions.js';
import type { ListenerDeps, ListenerRoutes } from './tcp.js';

interface Session extends Timed {
  readonly id: string;
  readonly client: { ip: string; port: number };
  readonly pool: L4Pool;
  readonly backend: L4Backend;
  readonly upstream: dgram.Socket;
  /** The pool's PROXY v2 header (DGRAM) for this client, sent in front of every datagram; undefined when off. */
  readonly header: Buffer | undefined;
  readonly start: number;
  readonly startedAt: number;
  bytesIn: number;
  bytesOut: number;
  error: ProxyError | undefined;
  /** Datagrams that arrived before the backend socket was connected (bounded; more are dropped, as UDP may). */
  pending: Buffer[] | undefined;
}

/** Datagrams held per session while its backend socket connects. */
const MAX_PENDING = 64;

/**
 * A UDP listener: one session per client `ip:port`, each with its own connected socket to the backend picked for
 * it (so replies find their way back), ended after the listener's idle timeout; one flow per session.
 */
export class UdpListener {
  private readonly socket: dgram.Socket;
  private readonly table: SessionTable<Session>;
  private sweeper: NodeJS.Timeout | undefined;
  private address = '';
  /** The bound address: the PROXY header's destination (a wildcard bind gives the wildcard: no IP_PKTINFO in Node). */
  private local: Endpoint = { ip: '', port: 0 };
  private accepting = true;
  refused = 0;

  constructor(private routes: ListenerRoutes, private readonly deps: ListenerDeps) {
    const host = routes.config.listen.host;
    this.socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    this.socket.on('error', (err) => deps.log.warn({ err: err.message, listener: this.address }, 'udp listener error'));
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.table = new SessionTable(routes.idleTimeoutMs, routes.config.maxConnections);
  }

  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = this.routes.config.listen;
    this.socket.bind(port, host);
    await once(this.socket, 'listening');
    const a = this.socket.address();
    this.address = `${host.includes(':') ? `[${host}]` : host}:${a.port}`;
    this.local = { ip: unmapIPv4(a.address), port: a.port };
    const every = Math.max(10, Math.min(1000, Math.floor(this.routes.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => {
      for (const [, s] of this.table.expire(this.deps.clock.monotonic())) this.end(s, 'idle timeout');
    }, every);
    this.sweeper.unref();
    return { host, port: a.port };
  }

  get url(): string { return `udp://${this.address}`; }
  get active(): number { return this.table.size; }

  /** Sessions keep their pool; new sessions use the new routes (the idle timeout and cap stay as started). */
  update(routes: ListenerRoutes): void { this.routes = routes; }

  /** Takes no new sessions; open ones may run until they idle out or graceMs passes. */
  async close(graceMs: number): Promise<void> {
    this.accepting = false;
    const deadline = this.deps.clock.monotonic() + graceMs;
    while (this.table.size > 0 && this.deps.clock.monotonic() < deadline) await new Promise((r) => setTimeout(r, 25));
    clearInterval(this.sweeper);
    for (const [, s] of this.table.drain()) this.end(s, 'shutdown');
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    const now = this.deps.clock.monotonic();
    let s = this.table.get(key);
    if (s === undefined) {
      if (!this.accepting) return;
      s = this.open(key, rinfo, now);
      if (s === undefined) return;
    }
    s.lastSeen = now;
    s.bytesIn += msg.length;
    if (s.pending === undefined) this.forward(s, msg);
    else if (s.pending.length < MAX_PENDING) s.pending.push(msg);
  }

  private open(key: string, rinfo: dgram.RemoteInfo, now: number): Session | undefined {
    const r = this.routes;
    const pool = r.defaultPool === undefined ? undefined : r.pools.get(r.defaultPool);
    const ip = unmapIPv4(rinfo.address);
    const pick = pool?.pick(ip, undefined, now);
    if (pool === undefined || pick === undefined) { this.refused++; return undefined; }
    const b = pick.backend;
    const upstream = dgram.createSocket({ type: isIPv6(b.host) ? 'udp6' : 'udp4' });
    const client = { ip, port: rinfo.port };
    const header = pool.config.proxyProtocol === 'v2' ? encodeV2({ source: client, destination: this.local, transport: 'dgram' }) : undefined;
    const s: Session = {
      id: this.deps.nextId(), client, pool, backend: b, upstream, header, start: now,
      startedAt: this.deps.clock.now(), lastSeen: now, bytesIn: 0, bytesOut: 0, error: undefined, pending: [],
    };
    if (!this.table.add(key, s)) { upstream.close(); this.refused++; return undefined; }
    upstream.on('message', (reply) => {
      s.lastSeen = this.deps.clock.monotonic();
      s.bytesOut += reply.length;
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      // ICMP port unreachable shows up as ECONNREFUSED on a connected socket: the backend is not there.
      s.error = new ProxyError('CONNECT_REFUSED', `${b.id} ${err.code ?? err.message}`);
      pool.failed(b, this.deps.clock.monotonic(), err.code ?? err.message);
      this.table.delete(key);
      this.end(s, 'backend error');
    });
    upstream.connect(b.port, b.host, () => {
      const queued = s.pending ?? [];
      s.pending = undefined;
      for (const m of queued) this.forward(s, m);
    });
    pool.connected(b, ip, now);
    return s;
  }

  /** One client datagram to the backend: with a PROXY header, both go out as one datagram (scatter/gather, no copy). */
  private forward(s: Session, msg: Buffer): void {
    if (s.header === undefined) s.upstream.send(msg);
    else s.upstream.send([s.header, msg]);
  }

  private end(s: Session, close: string): void {
    try { s.upstream.close(); } catch { /* already closed */ }
    s.pool.released(s.backend, s.client.ip, this.deps.clock.monotonic());
    if (!this.deps.bus.wants('flow.end')) return;
    this.deps.bus.emit({ type: 'flow.end', flow: l4Record({
      id: s.id, protocol: 'udp', startedAt: s.startedAt, client: `${s.client.ip}:${s.client.port}`, listener: this.address,
      listenerName: this.routes.config.name, pool: s.pool.name, backend: s.backend.id, attempts: 1, pick: undefined, sni: undefined,
      bytesIn: s.bytesIn, bytesOut: s.bytesOut, connectMs: undefined, durationMs: this.deps.clock.monotonic() - s.start, close, error: s.error,
    }) });
  }
}
