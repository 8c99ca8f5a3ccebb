import { lookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { L4Backend } from './backend.js';
import type { DialError } from './dial.js';
import type { L4Pool } from './pool.js';
import * as uv from './uv.js';

type Done = (err: DialError | undefined, h?: uv.TcpHandle) => void;

const failure = (code: string, message: string): DialError => Object.assign(new Error(message), { code });

/**
 * One connect attempt on a raw handle: the addresses of the backend in turn (one for an IP literal, what dns.lookup
 * returns for a name) within the pool's connect timeout, then its socket options. `done` runs once.
 */
class HandleConnect implements uv.ConnectSink {
  private h: uv.TcpHandle | undefined;
  private next = 0;
  private finished = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly addrs: readonly LookupAddress[], private readonly port: number, private readonly pool: L4Pool,
    private readonly signal: { aborted: boolean }, private readonly done: Done) {
    const ms = pool.config.connectTimeoutMs;
    this.timer = setTimeout(() => this.fail(failure('ETIMEDOUT', `no connection within ${ms} ms`)), ms);
    this.tryNext(undefined);
  }

  afterConnect(status: number): void {
    const h = this.h;
    if (this.finished || h === undefined) return; // timed out: the handle was closed (UV_ECANCELED)
    if (status < 0) {
      uv.close(h);
      this.h = undefined;
      this.tryNext(this.error(status));
      return;
    }
    this.finished = true;
    clearTimeout(this.timer);
    if (this.signal.aborted) { uv.close(h); this.done(new Error('client went away')); return; }
    const c = this.pool.config;
    if (c.noDelay) uv.setNoDelay(h, true);
    if (c.keepAlive.enabled) uv.setKeepAlive(h, true, c.keepAlive.initialDelayMs);
    this.done(undefined, h);
  }

  private tryNext(last: DialError | undefined): void {
    const a = this.addrs[this.next++];
    if (a === undefined) { this.fail(last ?? failure('ENOTFOUND', 'no address')); return; }
    const h = uv.createTcp();
    this.h = h;
    const err = uv.connect(h, a.address, a.family === 6 ? 6 : 4, this.port, this);
    if (err !== 0) {
      uv.close(h);
      this.h = undefined;
      this.tryNext(this.error(err));
    }
  }

  /** As net.connect words it: `connect ECONNREFUSED 127.0.0.1:7001`. */
  private error(status: number): DialError {
    const a = this.addrs[this.next - 1];
    const name = uv.errname(status);
    return failure(name, `connect ${name} ${a?.address ?? ''}:${this.port}`);
  }

  private fail(err: DialError): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    if (this.h !== undefined) uv.close(this.h);
    this.h = undefined;
    this.done(err);
  }
}

/**
 * Opens a backend connection on a raw handle: an IP literal (v4 or v6) is connected directly, a host name is looked
 * up first (dns.lookup, every address in its order, like net.connect without its parallel attempts).
 */
export function dialHandle(b: L4Backend, pool: L4Pool, signal: { aborted: boolean }, done: Done): void {
  const family = isIP(b.host);
  if (family !== 0) {
    new HandleConnect([{ address: b.host, family }], b.port, pool, signal, done);
    return;
  }
  lookup(b.host, { all: true }, (err, addrs) => {
    if (err !== null) { done(failure(err.code ?? 'ENOTFOUND', err.message)); return; }
    if (signal.aborted) { done(new Error('client went away')); return; }
    new HandleConnect(addrs, b.port, pool, signal, done);
  });
}
