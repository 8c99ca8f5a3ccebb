import { ProxyError } from '../core/errors.js';
import type { L4Backend } from './backend.js';
import { dialWithRetry, type DialError, type Dialed, type Dialer, type DialFailure } from './dial.js';
import { dialHandle } from './handle-dial.js';
import { HandleSplice } from './handle-splice.js';
import { IdleSweep } from './idle-sweep.js';
import type { CloseReason } from './pipe.js';
import type { L4Pool } from './pool.js';
import { encodeV1, encodeV2, type Endpoint } from './proxy-protocol.js';
import type { ConnEnd, ListenerDeps, ListenerRoutes } from './tcp.js';
import * as uv from './uv.js';

/** A client whose address could not be read (reset before getpeername). */
const UNKNOWN_PEER: Endpoint = { ip: '', port: 0 };

/**
 * The pool a new connection of this listener may take on the fast path, or undefined: only when nothing must be
 * read before routing (no SNI routes, no trusted PROXY senders), and the pool has no pre-connected sockets and no
 * write coalescing (both live on net.Socket). Asked per connection, so a reload switches paths for new ones.
 */
export function fastPool(r: ListenerRoutes): L4Pool | undefined {
  if (r.router !== undefined || r.trusted !== undefined || r.defaultPool === undefined) return undefined;
  const pool = r.pools.get(r.defaultPool);
  return pool === undefined || pool.warm !== undefined || pool.config.coalesceWindowMs > 0 ? undefined : pool;
}

/** One fast-path connection from accept to its flow's end; it dials its backend itself (a Dialer of raw handles). */
class FastConn implements Dialer<uv.TcpHandle> {
  private readonly splice: HandleSplice;
  private dialed: Dialed<uv.TcpHandle> | undefined;
  private attempts = 0;

  constructor(private readonly owner: FastAccept, private readonly h: uv.TcpHandle, private readonly pool: L4Pool,
    private readonly key: string, private readonly peer: Endpoint | undefined, private readonly start: number,
    private readonly startedAt: number, idleMs: number) {
    // A PROXY header and the client's first bytes leave together when the client is read while connecting.
    this.splice = new HandleSplice(h, owner.sweep, idleMs, pool.config.proxyProtocol !== 'off');
    owner.sweep.live.add(this.splice);
    dialWithRetry(pool, key, owner.deps.clock, this.splice, this, (d) => this.connected(d));
  }

  /** An attempt after a failed one first checks that the client is still there (see `clientGone`). */
  dial(b: L4Backend, pool: L4Pool, signal: { aborted: boolean }, done: (err: DialError | undefined, h?: uv.TcpHandle) => void): void {
    if (this.attempts++ > 0 && this.clientGone()) { done(new Error('client went away')); return; }
    dialHandle(b, pool, signal, done);
  }

  /**
   * The client reset while its backend was being connected: it is not read before the splice starts, so this asks
   * getpeername (which fails once the socket is reset), at the points where the net.Socket path checks its 'close':
   * between attempts and once connected. A gone client is closed (the splice's `aborted`).
   */
  private clientGone(): boolean {
    if (!this.splice.aborted && uv.peerName(this.h) === undefined) this.splice.abandon();
    return this.splice.aborted;
  }

  private connected(d: Dialed<uv.TcpHandle> | DialFailure): void {
    const s = this.splice;
    if ('error' in d) {
      s.abandon();
      const close = d.error.code === 'CLIENT_ABORTED' ? 'client closed' : 'connect failed';
      this.end(d.error, close, d.attempts, d.failures.join(', ') || undefined);
      return;
    }
    if (this.clientGone()) {
      uv.close(d.conn);
      s.abandon();
      this.end(new ProxyError('CLIENT_ABORTED', 'client closed while connecting'), 'client closed', d.attempts, undefined);
      return;
    }
    const { clock } = this.owner.deps;
    const c = this.pool.config;
    this.dialed = d;
    this.pool.connected(d.backend, this.key, clock.monotonic());
    if (c.noDelay) uv.setNoDelay(this.h, true);
    if (c.keepAlive.enabled) uv.setKeepAlive(this.h, true, c.keepAlive.initialDelayMs);
    const header = c.proxyProtocol === 'off' ? undefined : (c.proxyProtocol === 'v1' ? encodeV1 : encodeV2)({
      source: this.peer ?? UNKNOWN_PEER, destination: uv.sockName(this.h) ?? UNKNOWN_PEER, transport: 'stream',
    });
    s.attach(d.conn, header, (reason) => this.closed(reason));
  }

  private closed(reason: CloseReason): void {
    const d = this.dialed as Dialed<uv.TcpHandle>;
    this.pool.released(d.backend, this.key, this.owner.deps.clock.monotonic());
    const pick = d.sticky ? `stick table: ${d.backend.id}` : d.failures.length > 0 ? `after ${d.failures.join(', ')}` : undefined;
    this.end(undefined, reason, d.attempts, pick, d.backend.id, d.connectMs);
  }

  private end(error: ProxyError | undefined, close: string, attempts: number, pick: string | undefined, backend?: string, connectMs?: number): void {
    const o = this.owner;
    o.sweep.live.delete(this.splice);
    if (!o.deps.bus.wants('flow.end')) { o.ended(undefined); return; } // nobody listens: build nothing
    o.ended({
      peer: this.peer, pool: this.pool.name, sni: undefined, start: this.start, startedAt: this.startedAt,
      error, close, attempts, pick, backend, connectMs, bytesIn: this.splice.bytesIn, bytesOut: this.splice.bytesOut,
    });
  }
}

/**
 * A TCP listener's fast path: connections taken on their raw libuv handle (uv.ts says why) and spliced by
 * HandleSplice, with the net.Socket path's behaviour (dial with retry, caps, stick table, PROXY header towards the
 * backend, one flow.end each). Idle timeouts come from one sweep per listener instead of a timer per socket.
 */
export class FastAccept {
  readonly sweep: IdleSweep<HandleSplice>;

  constructor(readonly deps: ListenerDeps, readonly ended: (end: ConnEnd | undefined) => void) {
    this.sweep = new IdleSweep(() => deps.clock.monotonic());
  }

  /** Takes a new connection for `pool` (the listener counted it in): dial, splice, report. */
  accept(h: uv.TcpHandle, r: ListenerRoutes, pool: L4Pool): void {
    const { clock, bus } = this.deps;
    const start = clock.monotonic();
    const startedAt = clock.now();
    // The flow record, a hash or stick key and a PROXY header name the client; a closed handle no longer knows it.
    const peer = bus.wants('flow.end') || pool.keyed || pool.config.proxyProtocol !== 'off' ? uv.peerName(h) ?? UNKNOWN_PEER : undefined;
    if (r.idleTimeoutMs > 0) this.sweep.arm(r.idleTimeoutMs);
    new FastConn(this, h, pool, pool.keyed && peer !== undefined ? peer.ip : '', peer, start, startedAt, r.idleTimeoutMs);
  }

  /** Ends every connection (connecting ones are closed and end as 'client closed' when their dial returns). */
  stopAll(reason: CloseReason): void {
    for (const s of this.sweep.live) s.stop(reason);
  }

  close(): void { this.sweep.close(); }
}
