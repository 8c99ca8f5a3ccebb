import { isIP } from 'node:net';
import { QueueTimeoutError } from '../queue-timeout.js';
import { Exchange, H1Connection, type ConnectionOwner } from './connection.js';
import { poolClosed } from './errors.js';
import { RawSocket, type RawConnector } from './raw-socket.js';
import { requestHead } from './request-head.js';
import type { Connector, H1DispatchOptions, H1Handler, H1Socket } from './types.js';

export interface H1PoolOptions {
  readonly protocol: 'http:' | 'https:';
  /** Host name or IP (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** Most connections open at once; more requests wait in the pool's queue. */
  readonly connections: number;
  /** How long an idle connection is kept for reuse (0: one request per connection). */
  readonly keepAliveTimeoutMs: number;
  /** Defaults for requests that give none (0 disables). */
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** A request waiting this long for a connection fails with CONNECT_TIMEOUT (0: no limit). */
  readonly queueTimeoutMs: number;
  /** Names the pool in queue-timeout errors (a backend id). */
  readonly name: string;
  readonly maxHeaderBytes: number;
  readonly connect: Connector;
  /**
   * Plain HTTP to an IP literal: connect through this instead of `connect` (RawSocket.connect, on a raw libuv handle;
   * see rawConnector). Ignored for HTTPS, host names, or when the raw bindings are missing.
   */
  readonly rawConnect?: RawConnector;
  /** Told the socket each request is written on, right after the handler's onConnect (connection timings). */
  readonly onRequestSocket?: (socket: H1Socket) => void;
  /** Told when the pool has no connection and no queued request left (an agent then drops it). */
  readonly onEmpty?: () => void;
}

/** The largest response header section accepted from an upstream (node's and undici's default, 16 KiB). */
export const UPSTREAM_MAX_HEADER_BYTES = 16 * 1024;

/** The nearest sweep interval to a tenth of the shortest timeout, within [5 ms, 500 ms]. */
function sweepInterval(o: Pick<H1PoolOptions, 'headersTimeoutMs' | 'bodyTimeoutMs' | 'keepAliveTimeoutMs' | 'queueTimeoutMs'>): number {
  const limits = [o.headersTimeoutMs, o.bodyTimeoutMs, o.keepAliveTimeoutMs, o.queueTimeoutMs].filter((ms) => ms > 0);
  const shortest = limits.length > 0 ? Math.min(...limits) : 5_000;
  return Math.min(500, Math.max(5, Math.floor(shortest / 10)));
}

/**
 * A keep-alive pool of HTTP/1.1 connections to one origin, on node's own llhttp: the upstream client of the forward
 * and reverse modes. It keeps undici's dispatch(opts, handler) shape and error codes, so dispatch.ts, the retry rules
 * and the error mapping serve both; it exists because undici's general machinery (its WebAssembly parser, a Request
 * object and its validation, the kQueue bookkeeping) cost more CPU per proxied request than the proxy's own stages.
 * Timeouts are checked by one sweeper per pool, not a timer per request.
 */
export class H1Pool implements ConnectionOwner {
  private readonly idle: H1Connection[] = [];
  private readonly busy = new Set<H1Connection>();
  /** Requests waiting for a connection, oldest first; each counts its sweeps there in idleSweeps. */
  private readonly queue: Exchange[] = [];
  private connecting = 0;
  private closing = false;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweepMs: number;
  private readonly authority: string;
  private readonly servername: string | null;
  private drained: (() => void) | undefined;
  /** options.rawConnect when this pool's origin qualifies for it (plain HTTP, IP literal, bindings there). */
  private readonly rawConnect: RawConnector | undefined;

  constructor(readonly options: H1PoolOptions) {
    this.sweepMs = sweepInterval(options);
    const host = options.hostname.includes(':') ? `[${options.hostname}]` : options.hostname;
    this.authority = `${host}:${options.port}`;
    this.servername = options.protocol === 'https:' && !/^[\d.]+$|:/.test(options.hostname) ? options.hostname : null;
    this.rawConnect = options.protocol === 'http:' && isIP(options.hostname) !== 0 && RawSocket.available ? options.rawConnect : undefined;
  }

  /** Connections open or being opened, and requests waiting for one. */
  stats(): { connected: number; free: number; pending: number; running: number } {
    return { connected: this.idle.length + this.busy.size, free: this.idle.length, pending: this.queue.length, running: this.busy.size };
  }

  dispatch(opts: H1DispatchOptions, handler: H1Handler): boolean {
    if (this.closing) {
      handler.onError?.(poolClosed());
      return false;
    }
    const body = opts.body ?? null;
    const method = opts.method;
    const built = requestHead({
      method, path: opts.path, headers: flatHeaders(opts.headers), hasBody: body !== null,
      close: this.options.keepAliveTimeoutMs <= 0,
    });
    if (built instanceof Error) {
      handler.onError?.(built);
      return false;
    }
    const ex = new Exchange(handler, built.head, built.framing, body, method === 'HEAD',
      opts.headersTimeout ?? this.options.headersTimeoutMs, opts.bodyTimeout ?? this.options.bodyTimeoutMs);
    const conn = this.idle.pop();
    if (conn !== undefined) this.run(conn, ex);
    else this.enqueue(ex);
    return true;
  }

  private run(conn: H1Connection, ex: Exchange): void {
    this.busy.add(conn);
    // Not started: the request was aborted before a byte was written, and the connection is as good as before.
    if (!conn.start(ex)) return this.release(conn);
    this.options.onRequestSocket?.(conn.socket);
  }

  private enqueue(ex: Exchange): void {
    this.queue.push(ex);
    this.ensureSweeper();
    this.openIfNeeded();
  }

  /** One more connection when more requests wait than connections are being opened, within the pool's limit. */
  private openIfNeeded(): void {
    if (!this.closing && this.queue.length > this.connecting && this.busy.size + this.connecting < this.options.connections) this.open();
  }

  private open(): void {
    this.connecting++;
    const { protocol, hostname, port } = this.options;
    if (this.rawConnect !== undefined) {
      this.rawConnect(hostname, port, (err, socket) => this.opened(err, socket));
      return;
    }
    this.options.connect({
      hostname, host: this.authority, protocol, port: String(port), ...(this.servername ? { servername: this.servername } : {}),
    }, (err, socket) => this.opened(err, socket));
  }

  private opened(err: Error | null, socket: H1Socket | null): void {
    this.connecting--;
    if (err || !socket) return this.connectFailed(err ?? new Error('connect failed'));
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new H1Connection(socket, this, this.options.maxHeaderBytes);
    const next = this.nextWaiting();
    if (next) this.run(conn, next);
    else this.release(conn);
  }

  /** A connect failed: the oldest request no other pending connect could serve fails with the connect error. */
  private connectFailed(err: Error): void {
    if (this.queue.length > this.connecting) this.queue.shift()?.abandon(err);
    this.openIfNeeded();
    this.checkEmpty();
  }

  private nextWaiting(): Exchange | undefined {
    for (;;) {
      const ex = this.queue.shift();
      if (ex === undefined || !ex.finished) return ex;
    }
  }

  release(conn: H1Connection): void {
    this.busy.delete(conn);
    if (conn.closed) return;
    const next = this.closing ? undefined : this.nextWaiting();
    if (next) return this.run(conn, next);
    // Closing, or the server's Keep-Alive hint leaves no time to reuse it safely.
    if (this.closing || conn.idleLimitMs === 0) return conn.destroy();
    conn.idleSweeps = 0;
    this.idle.push(conn);
    this.ensureSweeper();
  }

  removed(conn: H1Connection): void {
    this.busy.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.openIfNeeded(); // a request waiting for a connection gets a new one in place of the one that went
    this.checkEmpty();
  }

  private ensureSweeper(): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
    this.sweeper.unref();
  }

  private sweep(): void {
    const ms = this.sweepMs;
    for (const conn of [...this.busy]) conn.checkTimeouts(ms);
    const keepMs = this.options.keepAliveTimeoutMs;
    for (const conn of [...this.idle]) {
      conn.idleSweeps++;
      const limit = conn.idleLimitMs !== undefined ? Math.min(conn.idleLimitMs, keepMs) : keepMs;
      if ((conn.idleSweeps - 1) * ms >= limit) conn.destroy();
    }
    const queueMs = this.options.queueTimeoutMs;
    if (queueMs > 0) {
      for (const ex of [...this.queue]) {
        if (ex.finished || ++ex.idleSweeps * ms < queueMs + ms) continue;
        this.queue.splice(this.queue.indexOf(ex), 1);
        ex.abandon(new QueueTimeoutError(this.options.name, queueMs));
      }
    }
    this.checkEmpty();
  }

  private checkEmpty(): void {
    if (this.idle.length + this.busy.size + this.connecting + this.queue.length > 0) return;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.drained?.();
    this.options.onEmpty?.();
  }

  /** Stops taking requests; running ones finish, waiting ones are still served, idle connections close. */
  close(): Promise<void> {
    this.closing = true;
    for (const conn of [...this.idle]) conn.destroy();
    if (this.busy.size + this.connecting + this.queue.length === 0) {
      this.checkEmpty();
      return Promise.resolve();
    }
    return new Promise((resolve) => { this.drained = resolve; });
  }

  /** Ends everything now: running and waiting requests fail with UND_ERR_DESTROYED. */
  destroy(): Promise<void> {
    this.closing = true;
    const err = poolClosed();
    for (const ex of this.queue.splice(0)) ex.abandon(err);
    for (const conn of [...this.busy]) {
      const ex = conn.exchange;
      if (ex && !ex.finished) conn.fail(ex, err);
      else conn.destroy();
    }
    for (const conn of [...this.idle]) conn.destroy();
    this.checkEmpty();
    return Promise.resolve();
  }
}

/** The flat header list dispatch.ts builds; the object form (rare: config-built requests) is flattened per value. */
function flatHeaders(headers: H1DispatchOptions['headers']): ReadonlyArray<string> {
  if (headers == null) return [];
  if (Array.isArray(headers)) return headers as ReadonlyArray<string>;
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers as Record<string, string | string[]>)) {
    for (const v of Array.isArray(value) ? value : [value]) out.push(name, v);
  }
  return out;
}
