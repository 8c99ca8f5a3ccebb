import net, { type Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import { ProxyError, type ProxyErrorCode } from '../core/errors.js';
import type { L4Backend } from './backend.js';
import { ReusedReads } from './pipe.js';
import type { L4Pool } from './pool.js';

/** A connected backend: `conn` is what carries it (a net.Socket with its reads, or a raw handle). */
export interface Dialed<C> {
  readonly conn: C;
  readonly backend: L4Backend;
  readonly sticky: boolean;
  readonly attempts: number;
  readonly connectMs: number;
  /** Why earlier attempts failed (`127.0.0.1:7001 ECONNREFUSED`), empty on the first try. */
  readonly failures: readonly string[];
}

export interface DialFailure { readonly error: ProxyError; readonly attempts: number; readonly failures: readonly string[] }

/** A connect error: `code` is the errno name (ECONNREFUSED, ETIMEDOUT, ENOTFOUND). */
export type DialError = Error & { code?: string };

/** How a pool's connections are opened: `dial` calls `done` once; `warm` hands out a pre-connected one, if any. */
export interface Dialer<C> {
  dial(b: L4Backend, pool: L4Pool, signal: { aborted: boolean }, done: (err: DialError | undefined, conn?: C) => void): void;
  warm?(pool: L4Pool, b: L4Backend): C | undefined;
}

/** A net.Socket backend connection: the socket and its reused read buffers (paused until the splice attaches). */
export interface SocketConn { readonly socket: Socket; readonly reads: ReusedReads }

/**
 * Opens one TCP connection to a backend with the pool's socket options and connect timeout. It reads into a reused
 * buffer (`reads`) and stays paused: nothing is read before the splice attaches it. Callbacks, not promises: this is
 * on every new connection's path.
 */
export function dialBackend(b: L4Backend, pool: L4Pool, signal: { aborted: boolean },
  done: (err: Error | undefined, socket?: Socket, reads?: ReusedReads) => void): void {
  const c = pool.config;
  const reads = new ReusedReads();
  const socket = net.connect({
    host: b.host, port: b.port, allowHalfOpen: true, noDelay: c.noDelay,
    keepAlive: c.keepAlive.enabled, keepAliveInitialDelay: c.keepAlive.initialDelayMs, onread: reads.onread,
  });
  socket.pause();
  socket.once('close', () => reads.release());
  const timer = setTimeout(() => fail(Object.assign(new Error(`no connection within ${c.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), c.connectTimeoutMs);
  function fail(err: Error): void {
    clearTimeout(timer);
    socket.destroy();
    done(err);
  }
  socket.once('error', fail);
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.off('error', fail);
    if (signal.aborted) { socket.destroy(); done(new Error('client went away')); return; }
    done(undefined, socket, reads);
  });
}

/** The net.Socket dialer: `dialBackend`, and the pool's warm sockets. */
export const socketDialer: Dialer<SocketConn> = {
  dial: (b, pool, signal, done) => dialBackend(b, pool, signal,
    (err, socket, reads) => done(err, socket === undefined || reads === undefined ? undefined : { socket, reads })),
  warm: (pool, b) => pool.warm?.take(b),
};

function codeOf(code: string | undefined): ProxyErrorCode {
  return code === 'ETIMEDOUT' ? 'CONNECT_TIMEOUT' : code === 'ECONNRESET' ? 'CONNECT_RESET'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'DNS_FAILED' : 'CONNECT_REFUSED';
}

/**
 * Connects a new client to a backend of the pool through `dialer`: a failed connect is counted against that backend
 * (passive health) and retried on another one, up to `maxAttempts`, before the client sees anything. `signal` is
 * set when the client went away: no further attempt is made.
 */
export function dialWithRetry<C>(pool: L4Pool, key: string, clock: Clock, signal: { aborted: boolean }, dialer: Dialer<C>,
  done: (result: Dialed<C> | DialFailure) => void): void {
  let tried: Set<string> | undefined;
  const failures: string[] = [];
  let last: ProxyError | undefined;
  const max = pool.config.maxAttempts;
  let attempt = 0;
  const give = (): void => {
    const none = (): ProxyError => new ProxyError('NO_HEALTHY_BACKEND',
      `no backend of pool ${pool.name} can take a connection${failures.length > 0 ? ` (tried ${failures.join(', ')})` : ''}`);
    const error = signal.aborted ? new ProxyError('CLIENT_ABORTED', 'client closed while connecting')
      : last !== undefined && failures.length >= max ? last : none();
    done({ error, attempts: failures.length, failures });
  };
  const next = (): void => {
    attempt++;
    if (attempt > max || signal.aborted) return give();
    const pick = pool.pick(key, tried, clock.monotonic());
    if (pick === undefined) return give();
    const b = pick.backend;
    const w = dialer.warm?.(pool, b); // a pre-connected socket: no connect to wait for
    if (w !== undefined) {
      done({ conn: w, backend: b, sticky: pick.sticky, attempts: attempt, connectMs: 0, failures });
      return;
    }
    const t0 = clock.monotonic();
    dialer.dial(b, pool, signal, (err, conn) => {
      if (err === undefined && conn !== undefined) {
        done({ conn, backend: b, sticky: pick.sticky, attempts: attempt, connectMs: clock.monotonic() - t0, failures });
        return;
      }
      const e: DialError = err ?? new Error('no connection');
      if (signal.aborted) return give();
      const detail = `${b.id} ${e.code ?? e.message}`;
      failures.push(detail);
      pool.failed(b, clock.monotonic(), e.code ?? e.message);
      last = new ProxyError(codeOf(e.code), `${detail}: ${e.message}`);
      (tried ??= new Set()).add(b.id);
      next();
    });
  };
  next();
}
