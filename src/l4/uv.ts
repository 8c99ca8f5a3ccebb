import type { Server } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { unmapIPv4 } from './address.js';
import type { Endpoint } from './proxy-protocol.js';

/**
 * The one place that touches Node's internal libuv bindings (`process.binding('tcp_wrap' | 'stream_wrap' | 'uv')`),
 * for the L4 fast path (handle-splice.ts, handle-dial.ts, tcp-fast.ts), the HTTP client's upstream connections
 * (upstream/h1/raw-socket.ts) and the express front door's client connections (reverse/express/).
 *
 * Why: a spliced L4 connection needs nothing a net.Socket adds (a Duplex stream with its state machine, 'data',
 * 'end', 'finish', 'close' events, nextTicks, a timer per socket, a Socket object for each side). On raw handles a
 * read is one JS call that writes the bytes straight to the other handle. Measured (CPU µs per request of the proxy,
 * wrk -c50 through it to nginx, 1 KiB): with a new connection per request a bare node:net pipe took 168-201 µs and
 * the raw-handle prototype 109-114 µs; 100 KiB kept-alive 84 vs 52 µs.
 *
 * The bindings are internal and may change shape between Node versions: `available` checks every function and
 * constant used here once, at load. When anything is missing (or `process.binding` is gone or refused) it is false
 * and the listeners use the net.Socket path instead; nothing here may be called then.
 */

declare const tcpBrand: unique symbol;
declare const reqBrand: unique symbol;
/** An open TCP handle (a connected or connecting socket); opaque outside this file. */
export interface TcpHandle { readonly [tcpBrand]: true }
/** A write request that may be reused after a synchronous write (one that is in flight may not). */
export interface WriteReq { readonly [reqBrand]: true }

/** Receives a handle's reads: `nread` > 0 bytes at the start of the user buffer, `UV_EOF`, or a negative errno. May return the next read buffer. */
export interface ReadSink { onRead(nread: number): Buffer | undefined }
/** An asynchronous write finished (status 0) or failed (negative errno, UV_ECANCELED after close). */
export interface WriteSink { afterWrite(status: number): void }
export interface ShutdownSink { afterShutdown(status: number): void }
export interface ConnectSink { afterConnect(status: number): void }

/** `writeBuffer`: every byte went to the kernel now (the buffer is free again). */
export const WRITE_SYNC = 0;
/** `writeBuffer`: queued in libuv; the buffer must stay untouched until the WriteSink is called. */
export const WRITE_ASYNC = 1;
/** `shutdown`: the FIN is queued; the ShutdownSink will be called. */
export const SHUTDOWN_PENDING = 0;
/** `shutdown`: nothing left to do (finished at once, or the socket is no longer connected). */
export const SHUTDOWN_DONE = 1;

// --- the internal shapes (checked in `load`) ---

interface RawSockAddr { address?: string; port?: number; family?: string }
interface RawReq { oncomplete: ((this: RawReq, status: number) => void) | undefined; handle?: RawTcp; buffer?: Uint8Array | readonly Uint8Array[]; sink?: unknown }
interface RawTcp {
  onread: (this: RawTcp) => Buffer | undefined;
  sink?: ReadSink;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
  writeBuffer(req: RawReq, data: Uint8Array): number;
  writeLatin1String(req: RawReq, data: string): number;
  writev(req: RawReq, chunks: readonly Uint8Array[], allBuffers: true): number;
  shutdown(req: RawReq): number;
  connect(req: RawReq, ip: string, port: number): number;
  connect6(req: RawReq, ip: string, port: number): number;
  getpeername(out: RawSockAddr): number;
  getsockname(out: RawSockAddr): number;
  setNoDelay(on: boolean): number;
  setKeepAlive(on: boolean, delaySecs: number): number;
  close(): void;
}
type Ctor<T> = new (arg?: number) => T;
interface Bindings {
  readonly TCP: Ctor<RawTcp>;
  readonly SOCKET: number;
  readonly TCPConnectWrap: Ctor<RawReq>;
  readonly WriteWrap: Ctor<RawReq>;
  readonly ShutdownWrap: Ctor<RawReq>;
  readonly state: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kLastWriteWasAsync: number;
  readonly UV_EOF: number;
  readonly UV_ENOTCONN: number;
}

const TCP_METHODS = ['readStart', 'readStop', 'useUserBuffer', 'writeBuffer', 'writeLatin1String', 'writev', 'shutdown', 'connect', 'connect6',
  'getpeername', 'getsockname', 'setNoDelay', 'setKeepAlive', 'close'] as const;

type Binding = Record<string, unknown>;
const isFn = (x: unknown): x is Ctor<unknown> => typeof x === 'function';
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

/** Reads and checks the bindings; undefined when any piece is missing or shaped differently. */
function load(): Bindings | undefined {
  try {
    const binding = (process as unknown as { binding?: (name: string) => unknown }).binding;
    if (typeof binding !== 'function') return undefined;
    const tcp = binding.call(process, 'tcp_wrap') as Binding;
    const stream = binding.call(process, 'stream_wrap') as Binding;
    const uvb = binding.call(process, 'uv') as Binding;
    const constants = tcp.constants as Binding | undefined;
    const { TCP, TCPConnectWrap } = tcp;
    const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = stream;
    const { UV_EOF, UV_ENOTCONN } = uvb;
    if (!isFn(TCP) || !isFn(TCPConnectWrap) || !isFn(WriteWrap) || !isFn(ShutdownWrap)) return undefined;
    if (!(streamBaseState instanceof Int32Array) || !isInt(kReadBytesOrError) || !isInt(kLastWriteWasAsync)) return undefined;
    if (!isInt(UV_EOF) || UV_EOF >= 0 || !isInt(UV_ENOTCONN) || !isInt(constants?.SOCKET)) return undefined;
    const proto = (TCP as { prototype: Record<string, unknown> }).prototype;
    if (TCP_METHODS.some((m) => typeof proto[m] !== 'function') || !('onread' in proto)) return undefined;
    return {
      TCP: TCP as Ctor<RawTcp>, SOCKET: constants.SOCKET as number, TCPConnectWrap: TCPConnectWrap as Ctor<RawReq>,
      WriteWrap: WriteWrap as Ctor<RawReq>, ShutdownWrap: ShutdownWrap as Ctor<RawReq>, state: streamBaseState,
      kReadBytesOrError, kLastWriteWasAsync, UV_EOF, UV_ENOTCONN,
    };
  } catch {
    return undefined;
  }
}

const loaded = load();
/** The bindings this file needs are there and shaped as expected: the fast path may be used. */
export const available = loaded !== undefined;
/** Only read when `available` (every exported function below assumes it). */
const B = loaded as Bindings;
/** libuv's end-of-stream read result (-4095). */
export const UV_EOF = loaded?.UV_EOF ?? -4095;

const raw = (h: TcpHandle): RawTcp => h as unknown as RawTcp;

/** `ECONNREFUSED` for a negative errno. */
export function errname(status: number): string {
  try { return getSystemErrorName(status); } catch { return `errno ${status}`; }
}

/** A new, unconnected TCP socket handle. */
export function createTcp(): TcpHandle {
  return new B.TCP(B.SOCKET) as unknown as TcpHandle;
}

function afterConnect(this: RawReq, status: number): void { (this.sink as ConnectSink).afterConnect(status); }

/** Starts a connect to an IP literal; 0, or a negative errno when it failed at once. */
export function connect(h: TcpHandle, ip: string, family: 4 | 6, port: number, sink: ConnectSink): number {
  const req = new B.TCPConnectWrap();
  req.oncomplete = afterConnect;
  req.sink = sink;
  return family === 6 ? raw(h).connect6(req, ip, port) : raw(h).connect(req, ip, port);
}

function onread(this: RawTcp): Buffer | undefined {
  return (this.sink as ReadSink).onRead(B.state[B.kReadBytesOrError] as number);
}

/**
 * Reads of `h` go into `buf` (libuv's user buffer: no Buffer per read) and to `sink`; call once per handle (each
 * call stacks a listener in Node). A later buffer is given by returning it from `onRead`. Does not start reading.
 */
export function useReader(h: TcpHandle, sink: ReadSink, buf: Buffer): void {
  const r = raw(h);
  r.sink = sink;
  r.onread = onread;
  r.useUserBuffer(buf);
}

/** The size of the shared read buffer (libuv's suggested read size, as node allocates per read). */
const SHARED_READ_BYTES = 64 * 1024;
let sharedRead: Buffer | undefined;

/**
 * One read buffer for every handle of the process whose reader consumes each read before it returns (parses it, or
 * copies what it keeps): reads run one at a time on the event loop thread, so none can overwrite another's bytes while
 * they are in use. Why: without a user buffer node allocates 64 KiB per read, trims it to what was read and hands it
 * to the garbage collector's ArrayBuffer sweeper (malloc, realloc, free and their consolidation: 5-8% of the CPU of
 * a proxied 1 KiB request, measured with perf).
 */
export function sharedReadBuffer(): Buffer {
  sharedRead ??= Buffer.allocUnsafeSlow(SHARED_READ_BYTES);
  return sharedRead;
}

export function readStart(h: TcpHandle): number { return raw(h).readStart(); }
export function readStop(h: TcpHandle): number { return raw(h).readStop(); }

function afterWrite(this: RawReq, status: number): void {
  this.buffer = undefined;
  (this.sink as WriteSink).afterWrite(status);
}

/** A write request for `h` whose asynchronous completion goes to `sink`. */
export function writeReq(h: TcpHandle, sink: WriteSink): WriteReq {
  const req = new B.WriteWrap();
  req.handle = raw(h);
  req.oncomplete = afterWrite;
  req.sink = sink;
  return req as unknown as WriteReq;
}

/**
 * Writes `data` to `h`: WRITE_SYNC (all taken by the kernel now; `req` may be used again), WRITE_ASYNC (queued:
 * `req` is in flight until its sink is called, and `data` must not change until then), or a negative errno.
 */
export function writeBuffer(h: TcpHandle, req: WriteReq, data: Uint8Array): number {
  const r = req as unknown as RawReq;
  const err = raw(h).writeBuffer(r, data);
  if (err !== 0) return err;
  if (B.state[B.kLastWriteWasAsync] === 0) return WRITE_SYNC;
  r.buffer = data; // keeps it alive while libuv holds a pointer into it
  return WRITE_ASYNC;
}

/**
 * writeBuffer for several buffers in one writev call (one syscall, one TCP segment when they fit): the same results;
 * when queued, every buffer must stay untouched until the sink is called.
 */
export function writeBuffers(h: TcpHandle, req: WriteReq, chunks: readonly Uint8Array[]): number {
  const r = req as unknown as RawReq;
  const err = raw(h).writev(r, chunks, true);
  if (err !== 0) return err;
  if (B.state[B.kLastWriteWasAsync] === 0) return WRITE_SYNC;
  r.buffer = chunks; // keeps them alive while libuv holds pointers into them
  return WRITE_ASYNC;
}

/** writeBuffer for a string's latin1 bytes; node copies whatever the kernel did not take at once, so nothing is held. */
export function writeLatin1(h: TcpHandle, req: WriteReq, data: string): number {
  const err = raw(h).writeLatin1String(req as unknown as RawReq, data);
  if (err !== 0) return err;
  return B.state[B.kLastWriteWasAsync] === 0 ? WRITE_SYNC : WRITE_ASYNC;
}

function afterShutdown(this: RawReq, status: number): void { (this.sink as ShutdownSink).afterShutdown(status); }

/** Sends a FIN after the queued writes: SHUTDOWN_PENDING (the sink will be called), SHUTDOWN_DONE, or a negative errno. */
export function shutdown(h: TcpHandle, sink: ShutdownSink): number {
  const req = new B.ShutdownWrap();
  req.handle = raw(h);
  req.oncomplete = afterShutdown;
  req.sink = sink;
  const err = raw(h).shutdown(req);
  return err === 1 || err === B.UV_ENOTCONN ? SHUTDOWN_DONE : err; // as net.Socket's _final reads it
}

function endpoint(out: RawSockAddr): Endpoint { return { ip: unmapIPv4(out.address ?? ''), port: out.port ?? 0 }; }

/** The remote address (a getpeername call), or undefined when the socket has none (closed, reset). */
export function peerName(h: TcpHandle): Endpoint | undefined {
  const out: RawSockAddr = {};
  return raw(h).getpeername(out) === 0 ? endpoint(out) : undefined;
}

/** The local address (a getsockname call). */
export function sockName(h: TcpHandle): Endpoint | undefined {
  const out: RawSockAddr = {};
  return raw(h).getsockname(out) === 0 ? endpoint(out) : undefined;
}

/** Also before connecting: libuv applies it when the socket is created. */
export function setNoDelay(h: TcpHandle, on: boolean): void { raw(h).setNoDelay(on); }
export function setKeepAlive(h: TcpHandle, on: boolean, initialDelayMs: number): void { raw(h).setKeepAlive(on, Math.floor(initialDelayMs / 1000)); }

/** Closes the handle: no callback runs for it afterwards except cancelled requests (UV_ECANCELED). */
export function close(h: TcpHandle): void {
  raw(h).close(); // `onread` stays: Node's setter accepts only a function, and no read comes after close
}

interface ListenHandle { onconnection?: (this: ListenHandle, err: number, client: unknown) => void }

/**
 * Takes new connections of a listening `server` (after 'listening') on their raw handle: `take` is asked for each
 * accepted handle and returns true when it took it; otherwise net's own accept runs (a net.Socket, the 'connection'
 * event) as before. Works in cluster workers too (their handle is shared or a round-robin stand-in whose
 * `onconnection` the primary's hand-offs call). False when the server has no such handle (nothing changed then).
 */
export function takeConnections(server: Server, take: (h: TcpHandle) => boolean): boolean {
  const handle = (server as unknown as { _handle?: ListenHandle | null })._handle;
  const original = handle?.onconnection;
  if (handle === undefined || handle === null || typeof original !== 'function') return false;
  handle.onconnection = function onconnection(this: ListenHandle, err: number, client: unknown): void {
    if (err === 0 && client instanceof B.TCP && take(client as unknown as TcpHandle)) return;
    original.call(this, err, client);
  };
  return true;
}
