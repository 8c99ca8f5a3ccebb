import { Socket } from 'node:net';
import { buildConnector } from 'undici';
import type { Clock } from '../core/clock.js';
import type { Flow } from '../core/flow.js';
import { RawSocket, type RawConnector } from './h1/raw-socket.js';

interface SocketTimings { dns?: number; connect?: number; tls?: number; claimed: boolean }

/**
 * Per-flow DNS / TCP connect / TLS durations on pooled upstream connections. A connection is timed once when the
 * connector opens it; the first flow sent on it reports those figures (a flow on a reused connection reports none,
 * as Squid and mitmproxy do). The h1 pool calls the handler's onConnect (track) and then tells the socket it wrote
 * that request on (sent), synchronously, which is what ties a flow to its socket here.
 */
export class ConnectionTimings {
  private readonly sockets = new WeakMap<object, SocketTimings>();
  private pending: Flow | undefined;

  constructor(private readonly clock: Clock) {}

  /** Wraps undici's connector so every new connection records its phases. */
  connector(options: buildConnector.BuildOptions): buildConnector.connector {
    const base = buildConnector(options);
    return (opts, callback) => {
      const start = this.clock.monotonic();
      const t: SocketTimings = { claimed: false };
      const https = opts.protocol === 'https:';
      let mark = start;
      const phase = (): number => {
        const now = this.clock.monotonic();
        const d = Math.round((now - mark) * 100) / 100;
        mark = now;
        return d;
      };
      // undici's connector returns the socket (its types say void); without one, only the total is lost.
      const socket = (base as (o: buildConnector.Options, c: buildConnector.Callback) => unknown)(opts, (err, sock) => {
        // The callback runs before our own 'connect' listener (and undici writes the request from it), so a plain
        // connection's connect phase ends here; a TLS one ends its handshake here after 'connect' was recorded.
        if (sock && https) t.tls = phase();
        else if (sock) t.connect = phase();
        if (sock) this.sockets.set(sock, t);
        if (err) callback(err, null);
        else callback(null, sock as Socket);
      });
      if (socket instanceof Socket) {
        socket.once('lookup', () => { t.dns = phase(); });
        if (https) socket.once('connect', () => { t.connect = phase(); });
      }
    };
  }

  /** RawSocket.connect (plain HTTP to IP literals, no DNS) with its connect phase recorded like the connector's. */
  rawConnector(timeoutMs: number): RawConnector {
    return (ip, port, callback) => {
      const start = this.clock.monotonic();
      RawSocket.connect(ip, port, timeoutMs, (err, socket) => {
        if (socket) this.sockets.set(socket, { connect: Math.round((this.clock.monotonic() - start) * 100) / 100, claimed: false });
        callback(err, socket);
      });
    };
  }

  /** Called from the dispatch handler's onConnect, right before undici writes the request on its socket. */
  track(flow: Flow): void {
    this.pending = flow;
  }

  /** The socket the tracked flow's request was just written on (H1PoolOptions.onRequestSocket). */
  sent(socket: object): void {
    const flow = this.pending;
    this.pending = undefined;
    if (!flow) return;
    const t = this.sockets.get(socket);
    if (!t || t.claimed) return;
    t.claimed = true;
    if (t.dns !== undefined) flow.timings.dns = t.dns;
    if (t.connect !== undefined) flow.timings.connect = t.connect;
    if (t.tls !== undefined) flow.timings.tls = t.tls;
  }
}
