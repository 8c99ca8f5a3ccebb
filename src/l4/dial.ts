import net, { type Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import { ProxyError, type ProxyErrorCode } from '../core/errors.js';
import type { L4Backend } from './backend.js';
import { ReusedReads } from './pipe.js';
import type { L4Pool } from './pool.js';

export interface Dialed {
  readonly socket: Socket;
  /** The socket reads into a reused buffer through this; it is paused until the splice attaches it. */
  readonly reads: ReusedReads;
  readonly backend: L4Backend;
  readonly sticky: boolean;
  readonly attempts: number;
  readonly connectMs: number;
  /** Why earlier attempts failed (`127.0.0.1:7001 ECONNREFUSED`), empty on the first try. */
  readonly failures: readonly string[];
}

export interface DialFailure { readonly error: ProxyError; readonly attempts: number; readonly failures: readonly string[] }

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

function codeOf(err: NodeJS.ErrnoException): ProxyErrorCode {
  return err.code === 'ETIMEDOUT' ? 'CONNECT_TIMEOUT' : err.code === 'ECONNRESET' ? 'CONNECT_RESET'
    : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'DNS_FAILED' : 'CONNECT_REFUSED';
}

/**
 * Connects a new client to a backend of the pool: a failed connect is counted against that backend (passive
 * health) and retried on another one, up to `maxAttempts`, before the client sees anything.
 */
export function dialWithRetry(pool: L4Pool, key: string, clock: Clock, signal: { aborted: boolean },
  done: (result: Dialed | DialFailure) => void): void {
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
    const w = pool.warm?.take(b); // a pre-connected socket: no connect to wait for
    if (w !== undefined) {
      done({ socket: w.socket, reads: w.reads, backend: b, sticky: pick.sticky, attempts: attempt, connectMs: 0, failures });
      return;
    }
    const t0 = clock.monotonic();
    dialBackend(b, pool, signal, (err, socket, reads) => {
      if (err === undefined && socket !== undefined && reads !== undefined) {
        done({ socket, reads, backend: b, sticky: pick.sticky, attempts: attempt, connectMs: clock.monotonic() - t0, failures });
        return;
      }
      const e = (err ?? new Error('no socket')) as NodeJS.ErrnoException;
      if (signal.aborted) return give();
      const detail = `${b.id} ${e.code ?? e.message}`;
      failures.push(detail);
      pool.failed(b, clock.monotonic(), e.code ?? e.message);
      last = new ProxyError(codeOf(e), `${detail}: ${e.message}`);
      (tried ??= new Set()).add(b.id);
      next();
    });
  };
  next();
}
