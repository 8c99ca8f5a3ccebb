import { buildConnector } from 'undici';
import { PeakEwma } from '../balance/ewma.js';
import type { BackendView } from '../balance/picker.js';
import { H1Pool, UPSTREAM_MAX_HEADER_BYTES } from './h1/pool.js';
import { rawConnector } from './h1/raw-socket.js';

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
  /** The keep-alive pool (Portico's HTTP/1.1 client); it fails a request that waits queueTimeoutMs for a connection. */
  readonly pool: H1Pool;

  constructor(spec: BackendSpec, readonly options: BackendPoolOptions) {
    const opts = options;
    this.id = spec.address;
    ({ host: this.host, port: this.port } = parseAddress(spec.address));
    this.configuredWeight = spec.weight;
    this.weight = spec.weight;
    this.latency = new PeakEwma({ decayMs: opts.ewmaDecayMs });
    this.pool = new H1Pool({
      protocol: 'http:', hostname: this.host, port: this.port, name: this.id,
      connections: opts.connections, keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
      headersTimeoutMs: opts.headersTimeoutMs, bodyTimeoutMs: opts.bodyTimeoutMs, queueTimeoutMs: opts.queueTimeoutMs,
      maxHeaderBytes: UPSTREAM_MAX_HEADER_BYTES, connect: buildConnector({ timeout: opts.connectTimeoutMs }),
      rawConnect: rawConnector(opts.connectTimeoutMs),
    });
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
