import { isIPv6 } from 'node:net';
import { HandleWriter } from '../../l4/handle-writer.js';
import * as uv from '../../l4/uv.js';
import type { H1Socket } from './types.js';

/** The most bytes queued in libuv before write() asks the writer to wait for 'drain' (net.Socket's highWaterMark). */
const HIGH_WATER_BYTES = 16 * 1024;

/** The error a net.Socket would give for a failed syscall: `connect ECONNREFUSED 127.0.0.1:9001`, with its code. */
function sysError(syscall: string, status: number, ip?: string, port?: number): NodeJS.ErrnoException & { address?: string; port?: number } {
  const code = uv.errname(status);
  const err: NodeJS.ErrnoException & { address?: string; port?: number } =
    new Error(`${syscall} ${code}${ip === undefined ? '' : ` ${ip}:${port ?? 0}`}`);
  err.code = code;
  err.errno = status;
  err.syscall = syscall;
  if (ip !== undefined) {
    err.address = ip;
    err.port = port;
  }
  return err;
}

/** Opens a raw connection to an IP literal (H1PoolOptions.rawConnect). */
export type RawConnector = (ip: string, port: number, callback: (err: Error | null, socket: RawSocket | null) => void) => void;

/** RawSocket.connect with a fixed connect timeout (ms; 0: none). */
export function rawConnector(timeoutMs: number): RawConnector {
  return (ip, port, callback) => RawSocket.connect(ip, port, timeoutMs, callback);
}

type Listeners = {
  data?: (chunk: Buffer) => void;
  end?: () => void;
  error?: (err: Error) => void;
  close?: () => void;
  drain?: () => void;
};

/**
 * An upstream connection on a raw libuv TCP handle with the few net.Socket members an H1Connection uses (H1Socket).
 * Why: per proxied request a net.Socket costs a Duplex stream's bookkeeping on both directions (write callbacks,
 * nextTicks, 'finish'/'end' state) that a connection carrying one exchange at a time never needs; here a read is one
 * call into the parser and a head is one latin1 write. Reads land in the process's shared read buffer (uv.sharedReadBuffer):
 * a 'data' chunk is valid only during the call (H1Connection's parser copies what it keeps). One listener per event
 * (the connection registers each once).
 */
export class RawSocket implements H1Socket, uv.ReadSink, uv.WriteSink {
  bytesRead = 0;
  destroyed = false;
  private readonly on_: Listeners = {};
  private readonly out: HandleWriter;
  private paused = false;

  private constructor(private readonly h: uv.TcpHandle) {
    this.out = new HandleWriter(h, this);
    uv.useReader(h, this, uv.sharedReadBuffer());
  }

  /** Whether raw upstream connections can be used in this Node (the internal bindings are there and as expected). */
  static get available(): boolean {
    return uv.available;
  }

  /**
   * Connects to an IP literal; `callback` gets the socket once connected (reading), or a net-style error
   * (ECONNREFUSED, …), or `UND_ERR_CONNECT_TIMEOUT` after `timeoutMs` (0: no limit).
   */
  static connect(ip: string, port: number, timeoutMs: number, callback: (err: Error | null, socket: RawSocket | null) => void): void {
    const h = uv.createTcp();
    uv.setNoDelay(h, true);
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (err: Error | null, socket: RawSocket | null): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      callback(err, socket);
    };
    const status = uv.connect(h, ip, isIPv6(ip) ? 6 : 4, port, {
      afterConnect(result: number): void {
        if (settled) return; // timed out: the handle is closed already (this is its cancellation)
        if (result < 0) {
          uv.close(h);
          return settle(sysError('connect', result, ip, port), null);
        }
        uv.setKeepAlive(h, true, 60_000); // as undici's connector does
        const socket = new RawSocket(h);
        uv.readStart(h);
        settle(null, socket);
      },
    });
    if (status < 0) {
      uv.close(h);
      // Asynchronous, as a net connect failure is: the pool must not re-enter itself.
      process.nextTick(() => settle(sysError('connect', status, ip, port), null));
      return;
    }
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        uv.close(h);
        const err: NodeJS.ErrnoException & { address?: string; port?: number } =
          new Error(`connect timeout after ${timeoutMs} ms (${ip}:${port})`);
        err.code = 'UND_ERR_CONNECT_TIMEOUT';
        err.address = ip;
        err.port = port;
        settle(err, null);
      }, timeoutMs);
      timer.unref();
    }
  }

  on(event: 'data', fn: (chunk: Buffer) => void): this;
  on(event: 'end' | 'close' | 'drain', fn: () => void): this;
  on(event: 'error', fn: (err: Error) => void): this;
  on(event: keyof Listeners, fn: (arg: never) => void): this {
    (this.on_ as Record<string, unknown>)[event] = fn;
    return this;
  }

  /**
   * A read into the process's shared read buffer: the 'data' listener (the connection's llhttp parser, which copies
   * the fields and body bytes it hands on) must be done with the chunk when it returns.
   */
  onRead(nread: number): undefined {
    if (this.destroyed) return;
    if (nread > 0) {
      this.bytesRead += nread;
      this.on_.data?.(uv.sharedReadBuffer().subarray(0, nread));
      return;
    }
    if (nread === 0) return; // EAGAIN: nothing this time
    if (nread === uv.UV_EOF) {
      uv.readStop(this.h);
      this.on_.end?.();
      return;
    }
    this.fail(sysError('read', nread));
  }

  write(data: string | Uint8Array, _encoding?: 'latin1'): boolean {
    if (this.destroyed) return false;
    this.out.write(data);
    return this.out.queuedBytes < HIGH_WATER_BYTES;
  }

  afterWrite(status: number): void {
    this.out.settled();
    if (this.destroyed) return;
    if (status < 0) return this.fail(sysError('write', status));
    if (this.out.queued === 0) this.on_.drain?.();
  }

  /** Nothing to hold: the writer's batch already sends a turn's writes to this handle as one writev. */
  cork(): void {}

  uncork(): void {}

  pause(): this {
    if (!this.paused && !this.destroyed) {
      this.paused = true;
      uv.readStop(this.h);
    }
    return this;
  }

  resume(): this {
    if (this.paused && !this.destroyed) {
      this.paused = false;
      uv.readStart(this.h);
    }
    return this;
  }

  /** Closes the handle now; 'close' follows on the next tick, as net's does after destroy(). */
  destroy(): this {
    if (this.destroyed) return this;
    this.closeHandle();
    process.nextTick(() => this.on_.close?.());
    return this;
  }

  private fail(err: Error): void {
    if (this.destroyed) return;
    this.closeHandle();
    process.nextTick(() => {
      this.on_.error?.(err);
      this.on_.close?.();
    });
  }

  /** The one way the handle closes: writes still batched are dropped with it (their afterWrite never comes). */
  private closeHandle(): void {
    this.destroyed = true;
    this.out.cancel();
    uv.close(this.h);
  }
}
