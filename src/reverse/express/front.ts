import type { Server } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Clock } from '../../core/clock.js';
import { rejectionResponse } from '../../core/rejections.js';
import type { Drain } from '../../forward/drain.js';
import type { ExchangeDeps } from '../../forward/exchange.js';
import type { FrontDoor, FrontDoorLimits } from '../../forward/front-door.js';
import * as uv from '../../l4/uv.js';
import { ExpressConnection, type ExpressHost } from './connection.js';
import type { ExpressTarget } from './eligible.js';

export interface ExpressFrontDeps {
  readonly door: FrontDoor;
  readonly clock: Clock;
  readonly limits: FrontDoorLimits;
  /** The mode's target rules (originFormTarget for the reverse proxy, absolute-form for the forward one). */
  readonly target: ExpressTarget;
  /** Counts exchanges in flight (the graceful shutdown waits for them). */
  readonly drain: Pick<Drain, 'begin' | 'end'>;
  /** The current pipeline and id source (read per request: a reload swaps them). */
  exchangeDeps(): ExchangeDeps;
}

const REQUEST_TIMEOUT = rejectionResponse({ status: 408, reason: 'request-timeout' });

/**
 * The express front door of the reverse proxy and the forward proxy's plain port: takes a plain-HTTP listener's connections on their raw libuv handles
 * (ExpressConnection) instead of node:http's net.Socket → IncomingMessage → ServerResponse, and runs the same
 * pipeline. It serves body-less requests, which are most of what a load balancer sees; a connection whose request it
 * does not serve goes to node:http (same FrontDoor, same limits and counts), which then keeps it.
 *
 * Why: measured on 1 KiB responses through the same pipeline, node:http's per-request objects and stream machinery
 * cost about as much CPU as everything else the proxy does per request (README, Performance).
 *
 * node:http does not know these connections: closeIdleConnections and closeAllConnections of each attached server
 * are extended to reach them (shutdown and listener retirement call those), and a stopped listener's connections
 * answer `Connection: close`. Keep-alive and first-request timeouts are checked by one sweep per front door.
 */
export class ExpressFront {
  private readonly servers = new Map<Server, Set<ExpressConnection>>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ExpressFrontDeps) {}

  /** Whether this Node has the raw bindings the express front door needs. */
  static get available(): boolean {
    return uv.available;
  }

  /** From the moment `server` (plain HTTP) listens, its new connections come here first. */
  attach(server: Server): void {
    const take = (): void => {
      const conns = new Set<ExpressConnection>();
      const host = this.host(server, conns);
      if (!uv.takeConnections(server, (h) => this.accept(h, host, conns))) return;
      this.servers.set(server, conns);
      const closeIdle = server.closeIdleConnections.bind(server);
      const closeAll = server.closeAllConnections.bind(server);
      server.closeIdleConnections = (): void => {
        closeIdle();
        for (const c of [...conns]) c.closeIdle();
      };
      server.closeAllConnections = (): void => {
        closeAll();
        for (const c of [...conns]) c.destroy();
      };
      server.once('close', () => {
        if (conns.size === 0) this.servers.delete(server);
      });
      this.ensureSweeper();
    };
    if (server.listening) take();
    else server.once('listening', take);
  }

  /** Open express connections (all listeners), for tests and gauges. */
  connections(): number {
    let n = 0;
    for (const conns of this.servers.values()) n += conns.size;
    return n;
  }

  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private accept(h: uv.TcpHandle, host: ExpressHost, conns: Set<ExpressConnection>): boolean {
    const peer = uv.peerName(h);
    // Over a connection limit (or no address): node:http's way, where the FrontDoor answers 503.
    if (peer === undefined || !this.deps.door.tryAdmit(peer.ip)) return false;
    conns.add(new ExpressConnection(h, peer.ip, peer.port, host, this.deps.clock.monotonic()));
    return true;
  }

  private host(server: Server, conns: Set<ExpressConnection>): ExpressHost {
    const { deps } = this;
    return {
      exchangeDeps: () => deps.exchangeDeps(),
      limits: deps.limits,
      target: deps.target,
      begin: () => deps.drain.begin(),
      end: () => deps.drain.end(),
      accepting: () => server.listening,
      handOver: (conn, handle, bytes) => {
        conns.delete(conn);
        // The options net's own accept gives a server's sockets: node:http servers keep half-open connections (a
        // CONNECT tunnel or an upgrade whose client sent its FIN must still carry the answer back).
        const listening = server as unknown as { allowHalfOpen?: boolean; pauseOnConnect?: boolean };
        // The handle reads into the shared read buffer (a reader node cannot take back): net's `onread` option keeps
        // that buffer and gives each read to a callback, which pushes a copy, as the socket's own read would have.
        // node:http's parser, while it consumes the handle, and TLS on top of it read in their own memory.
        const shared = uv.sharedReadBuffer();
        const socket: Socket = new Socket({
          handle, readable: true, writable: true, allowHalfOpen: listening.allowHalfOpen === true, pauseOnCreate: listening.pauseOnConnect === true,
          onread: { buffer: shared, callback: (n: number) => socket.push(Buffer.from(shared.subarray(0, n))) },
        } as unknown as ConstructorParameters<typeof Socket>[0]);
        // With `onread`, net's pause() stops the handle's reads (it assumes the stream buffers nothing). Here every read
        // is pushed, so pause keeps its usual net meaning: the stream stops flowing, reads go on until its buffer is full
        // (push false), and a FIN still ends it (an upgrade's splice pauses a side, then waits for its 'end').
        socket.pause = function pause(this: Socket): Socket {
          return Duplex.prototype.pause.call(this) as Socket;
        };
        // As net's own accept does: the server counts the socket (its close() waits for it; the socket's close
        // decrements the count again) and node:http reads the server from the socket in places.
        const counted = server as unknown as { _connections: number };
        counted._connections++;
        Object.assign(socket, { server, _server: server });
        deps.door.adopt(socket, conn.ip);
        server.emit('connection', socket);
        if (bytes !== undefined && bytes.length > 0) socket.unshift(bytes);
      },
      closed: (conn) => {
        if (conns.delete(conn)) deps.door.release(conn.ip);
      },
    };
  }

  private ensureSweeper(): void {
    if (this.sweeper !== undefined) return;
    const { keepAliveTimeoutMs, headersTimeoutMs } = this.deps.limits;
    const everyMs = Math.max(50, Math.min(1000, Math.floor(Math.min(keepAliveTimeoutMs, headersTimeoutMs) / 4)));
    this.sweeper = setInterval(() => this.sweep(), everyMs);
    this.sweeper.unref();
  }

  /** Idle keep-alive connections past keepAliveTimeoutMs close; a connection that never sent a request gets 408. */
  private sweep(): void {
    const now = this.deps.clock.monotonic();
    const { keepAliveTimeoutMs, headersTimeoutMs } = this.deps.limits;
    for (const conns of this.servers.values()) {
      for (const c of [...conns]) {
        if (c.state !== 'idle') continue;
        const idleMs = now - c.idleSince;
        if (c.requests > 0 && idleMs >= keepAliveTimeoutMs) c.closeIdle();
        else if (c.requests === 0 && idleMs >= headersTimeoutMs) {
          this.deps.door.rejections.count('request-timeout');
          c.answerAndClose(REQUEST_TIMEOUT);
        }
      }
    }
  }
}
