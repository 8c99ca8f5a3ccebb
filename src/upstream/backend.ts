import { Pool, type Dispatcher } from 'undici';
import { PeakEwma } from '../balance/ewma.js';
import type { BackendView } from '../balance/picker.js';
import { keepAlive } from './origin.js';
import { queueTimeout } from './queue-timeout.js';

export interface BackendSpec {
  /** host:port, also the id in events and notes. */
  readonly address: string;
  readonly weight: number;
}

/** Per-backend connection limits and timeouts, each with a safe default (Caddy: dial 3 s; Envoy: 1024 connections). */
export interface BackendPoolOptions {
  readonly connections: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** A request waiting this long for a free connection fails with CONNECT_TIMEOUT (0: wait without limit). */
  readonly queueTimeoutMs: number;
  readonly ewmaDecayMs: number;
}

export const DEFAULT_BACKEND_POOL: BackendPoolOptions = {
  connections: 128, keepAliveTimeoutMs: 30_000, connectTimeoutMs: 3_000, headersTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000, queueTimeoutMs: 5_000, ewmaDecayMs: 10_000,
};

/** `host:port` (or `[v6]:port`) → parts; throws naming the bad value. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(address);
  const port = Number(m?.[2]);
  if (m === null || port < 1 || port > 65535) throw new Error(`backend "${address}": expected HOST:PORT`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** One backend: the live view the pickers read (mutable here, read-only to them) plus its keep-alive pool. */
export class Backend implements BackendView {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly configuredWeight: number;
  weight: number;
  available = true;
  active = 0;
  readonly latency: PeakEwma;
  /** The keep-alive pool itself: the dispatcher while one of its connections is surely free (see mayQueue). */
  readonly pool: Pool;
  /** The pool behind the queue-timeout interceptor (undici's controller API), for requests that may have to queue. */
  readonly queued: Dispatcher | undefined;

  constructor(spec: BackendSpec, readonly options: BackendPoolOptions) {
    const opts = options;
    this.id = spec.address;
    ({ host: this.host, port: this.port } = parseAddress(spec.address));
    this.configuredWeight = spec.weight;
    this.weight = spec.weight;
    this.latency = new PeakEwma({ decayMs: opts.ewmaDecayMs });
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.pool = new Pool(`http://${host}:${this.port}`, {
      connections: opts.connections, ...keepAlive(opts.keepAliveTimeoutMs),
      headersTimeout: opts.headersTimeoutMs, bodyTimeout: opts.bodyTimeoutMs, connect: { timeout: opts.connectTimeoutMs },
    });
    this.queued = opts.queueTimeoutMs > 0 ? this.pool.compose(queueTimeout(opts.queueTimeoutMs, this.id)) : undefined;
  }

  /**
   * Whether the next request could wait for a connection and so needs `queued`. With fewer requests in flight than
   * the pool has connections (each counts in `active` until its body is done, and undici frees its connection before
   * that), undici has a free or a new connection for it: it cannot queue, so it goes to `pool` directly and skips the
   * interceptor, whose per-request timer and handler wrappers, and the header object undici's controller API parses
   * from the raw headers, cost ~5% of the proxy's CPU in a profile of 1 KiB responses.
   */
  mayQueue(): boolean {
    return this.queued !== undefined && this.active >= this.options.connections;
  }

  get ewmaMs(): number { return this.latency.ms; }

  /**
   * Lets running requests finish (undici's graceful close), but never waits past `deadlineMs`: then the pool is
   * destroyed, so a shutdown or a reload cannot hang on a backend that stopped answering.
   */
  async close(deadlineMs = 5_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => { void this.pool.destroy().catch(() => undefined).then(() => resolve()); }, deadlineMs);
      timer.unref();
    });
    await Promise.race([this.pool.close().catch(() => undefined), deadline]);
    clearTimeout(timer);
  }
}
