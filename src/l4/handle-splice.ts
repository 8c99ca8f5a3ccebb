import type { CloseReason, Splice } from './pipe.js';
import { giveReadBuffer, takeReadBuffer } from './read-buffers.js';
import * as uv from './uv.js';

/** Bytes a client read early sends while its backend connects are copied and held, at most this many; then its reads wait. */
const MAX_HELD = 64 * 1024;
/** A client given up before its backend connected is closed after this long at the latest (see `abandon`). */
const LINGER_MS = 1000;

/** A coarse clock (the idle sweep's): stamped on every read and write completion instead of a timer per connection. */
export interface IdleClock { readonly now: number }

/** One handle of a splice and what is known about each direction through it. */
class Side implements uv.ReadSink, uv.WriteSink, uv.ShutdownSink {
  /** The other side; undefined for the client until the backend is attached. */
  peer: Side | undefined;
  /** Where the next read lands (libuv's user buffer); replaced when a write still holds it. */
  buf = takeReadBuffer();
  /** Bytes read from this side. */
  bytes = 0;
  /** This side sent its FIN (read EOF). */
  finIn = false;
  /** A FIN was sent to it (shutdown issued, or closing instead). */
  finOut = false;
  shutdownPending = false;
  /** The peer's FIN must be passed on once the writes in flight to this side complete. */
  wantShutdown = false;
  closed = false;
  /** Asynchronous writes to this side in flight. */
  pending = 0;
  /** The peer's read buffer that a write to this side in flight points into (given back when it completes). */
  lent: Buffer | undefined;
  /** Reading stopped: writes to the peer are in flight (backpressure), or the held bytes are full. */
  stalled = false;
  /** A write request free for the next write to this side (one that completed synchronously is reused). */
  req: uv.WriteReq | undefined;

  constructor(readonly h: uv.TcpHandle, private readonly s: HandleSplice,
    readonly closedReason: CloseReason, readonly errorReason: CloseReason) {}

  onRead(nread: number): Buffer | undefined { return this.s.read(this, nread); }
  afterWrite(status: number): void { this.s.written(this, status); }
  afterShutdown(): void { this.s.shutDown(this); }
}

/**
 * A client↔backend splice on raw libuv handles, with pipe.ts's semantics: each read is written straight to the
 * other handle from a reused 64 KiB buffer; a write the kernel does not take at once (async) keeps its buffer (the
 * side reads into another) and stops reading the source until it completes (backpressure); a FIN is passed on as a
 * shutdown, or as a close when the other side already sent its own and nothing is in flight to it; an error on
 * either side closes both. The close reason is the first of: an error or `stop`, the side whose FIN came first.
 *
 * It starts with the client alone (made at accept). By default the client is read only from `attach`: its first
 * bytes wait in the kernel while the backend connects (reading at once cost ~20 us CPU per connection with a new
 * connection per request: a copy to hold and one more loop turn; the dial checks for a reset client with
 * getpeername instead, see tcp-fast.ts). With `readEarly` (a PROXY header will be sent) it is read at once and its
 * bytes and FIN are held, so the header and the first bytes leave together. Idle time is checked from outside
 * (`seen`, see IdleSweep). `onClose` runs once, when both handles are closed, only after `attach`.
 */
export class HandleSplice implements Splice {
  /** The client is gone (reset while read early, or given up by `stop`/`abandon`) before the backend was attached. */
  aborted = false;
  /** Last read or completed write, on the idle clock. */
  seen: number;
  private readonly client: Side;
  private backend: Side | undefined;
  private reason: CloseReason | undefined;
  private firstFin: CloseReason | undefined;
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private onClose: ((reason: CloseReason) => void) | undefined;
  /** The client is read (from the start with `readEarly`, else from `attach` or `abandon`). */
  private reading = false;
  /** Given up before `attach`: the client's unread bytes are read and dropped so that its close is a FIN, not a reset. */
  private lingering = false;

  constructor(client: uv.TcpHandle, private readonly idle: IdleClock, readonly idleMs: number, readEarly: boolean) {
    const c = new Side(client, this, 'client closed', 'client error');
    this.client = c;
    this.seen = idle.now;
    uv.useReader(client, c, c.buf);
    if (readEarly) this.startReading(c);
  }

  /** Bytes from the client, and from the backend (to the client). */
  get bytesIn(): number { return this.client.bytes; }
  get bytesOut(): number { return this.backend?.bytes ?? 0; }

  /** The backend is connected: `header` (a PROXY header) goes first, then what the client sent meanwhile. */
  attach(backend: uv.TcpHandle, header: Buffer | undefined, onClose: (reason: CloseReason) => void): void {
    const c = this.client;
    const b = new Side(backend, this, 'backend closed', 'backend error');
    this.backend = b;
    this.onClose = onClose;
    b.peer = c;
    c.peer = b;
    this.seen = this.idle.now;
    uv.useReader(backend, b, b.buf);
    if (header !== undefined) this.write(b, header, undefined);
    if (this.held !== undefined) for (const chunk of this.held) this.write(b, chunk, undefined);
    this.held = undefined;
    if (b.closed) return; // a write failed: both are closing
    if (c.finIn) this.passFin(b);
    if (!this.reading) this.startReading(c);
    else if (c.stalled && b.pending === 0) this.resume(c);
    if (!b.closed && uv.readStart(backend) !== 0) this.fail(b.errorReason);
  }

  /** Ends it now (both handles closed); before `attach`, closes the client (`aborted`). */
  stop(reason: CloseReason): void { this.fail(reason); }

  /**
   * The backend will not be attached (dial failed or the client went away): `aborted`, and no `onClose`. A client
   * never read gets a FIN and is closed at its next read event (its bytes, its FIN or a reset): closing over unread
   * bytes would reset it. One that stays silent is closed after LINGER_MS.
   */
  abandon(): void {
    this.held = undefined;
    const c = this.client;
    this.aborted = true;
    if (c.closed) return;
    if (this.reading) { this.closeSide(c); return; }
    this.lingering = true;
    this.startReading(c);
    if (!c.closed && uv.shutdown(c.h, c) !== uv.SHUTDOWN_PENDING) this.closeSide(c);
    if (!c.closed) setTimeout(() => { if (!c.closed) this.closeSide(c); }, LINGER_MS).unref();
  }

  /** Called by the idle sweep: only a spliced connection times out (connecting has its own timeout). */
  idleOut(): void { if (this.backend !== undefined) this.fail('idle timeout'); }

  read(side: Side, nread: number): Buffer | undefined {
    if (this.lingering) {
      if (nread < 0 || nread < side.buf.length) this.closeSide(side); // drained (or FIN, or reset): nothing unread
      return undefined;
    }
    if (nread > 0) {
      side.bytes += nread;
      this.seen = this.idle.now;
      const dst = side.peer;
      if (dst === undefined) { this.hold(side, nread); return undefined; }
      return dst.closed ? undefined : this.forward(side, dst, nread);
    }
    if (nread === uv.UV_EOF) this.eof(side);
    else if (nread < 0) this.fail(side.errorReason);
    return undefined;
  }

  written(dst: Side, status: number): void {
    dst.pending--;
    if (status < 0 && !dst.closed) this.fail(dst.errorReason);
    if (dst.pending > 0) return;
    if (dst.lent !== undefined) { giveReadBuffer(dst.lent); dst.lent = undefined; } // no write points into it now
    if (dst.closed) return;
    this.seen = this.idle.now;
    if (dst.wantShutdown) this.finishOut(dst);
    const src = dst.peer;
    if (src !== undefined && src.stalled) this.resume(src);
  }

  shutDown(side: Side): void {
    side.shutdownPending = false;
    if (this.lingering) return;
    this.maybeClose(side); // a shutdown error is ignored like net.Socket does; a reset shows on the read side
  }

  /** One read's bytes to `dst`; returns the next read buffer when this one is held by a write in flight. */
  private forward(src: Side, dst: Side, n: number): Buffer | undefined {
    if (this.write(dst, src.buf.subarray(0, n), src) !== uv.WRITE_ASYNC) return undefined;
    dst.lent = src.buf;
    src.buf = takeReadBuffer();
    return src.buf;
  }

  /** Writes to `dst`; an asynchronous write stops reading `src` until the writes to `dst` complete. */
  private write(dst: Side, data: Uint8Array, src: Side | undefined): number {
    const req = dst.req ?? uv.writeReq(dst.h, dst);
    const r = uv.writeBuffer(dst.h, req, data);
    if (r === uv.WRITE_SYNC) { dst.req = req; return r; }
    if (r < 0) { this.fail(dst.errorReason); return r; }
    dst.req = undefined; // in flight: not reusable
    dst.pending++;
    if (src !== undefined && !src.stalled) { src.stalled = true; uv.readStop(src.h); }
    return r;
  }

  private startReading(c: Side): void {
    this.reading = true;
    if (uv.readStart(c.h) !== 0) this.closeSide(c);
  }

  private resume(src: Side): void {
    if (src.closed || src.finIn || (src.peer?.pending ?? 0) > 0) return;
    src.stalled = false;
    if (uv.readStart(src.h) !== 0) this.fail(src.errorReason);
  }

  /** Before `attach`: a copy (the read buffer is reused), reading stops once MAX_HELD bytes wait. */
  private hold(side: Side, n: number): void {
    (this.held ??= []).push(Buffer.from(side.buf.subarray(0, n)));
    this.heldBytes += n;
    if (this.heldBytes >= MAX_HELD) { side.stalled = true; uv.readStop(side.h); }
  }

  private eof(side: Side): void {
    side.finIn = true; // libuv stopped reading it
    this.firstFin ??= side.closedReason;
    const dst = side.peer;
    if (dst === undefined) return; // passed on at attach
    this.passFin(dst);
    this.maybeClose(side);
  }

  /** The FIN of `dst`'s peer goes to `dst` once nothing is in flight to it. */
  private passFin(dst: Side): void {
    if (dst.closed || dst.finOut) return;
    if (dst.pending > 0) dst.wantShutdown = true;
    else this.finishOut(dst);
  }

  /**
   * Sends `dst` a FIN. When `dst` has sent its own already, this is its last step: closing sends the FIN (nothing
   * unread, no RST) without a shutdown call and its callback, one syscall and one loop round less (as pipe.ts).
   */
  private finishOut(dst: Side): void {
    dst.wantShutdown = false;
    dst.finOut = true;
    if (dst.finIn) { this.closeSide(dst); return; }
    const r = uv.shutdown(dst.h, dst);
    if (r === uv.SHUTDOWN_PENDING) dst.shutdownPending = true;
    else if (r < 0) this.fail(dst.errorReason);
  }

  /** A side both of whose directions are done is closed. */
  private maybeClose(side: Side): void {
    if (!side.closed && side.finIn && side.finOut && !side.shutdownPending && side.pending === 0) this.closeSide(side);
  }

  private fail(why: CloseReason): void {
    this.reason ??= why;
    if (!this.client.closed) this.closeSide(this.client);
    if (this.backend !== undefined && !this.backend.closed) this.closeSide(this.backend);
  }

  private closeSide(side: Side): void {
    side.closed = true;
    uv.close(side.h);
    giveReadBuffer(side.buf); // no read comes after close; a buffer a write still holds is `lent`, not `buf`
    const b = this.backend;
    if (b === undefined) { this.aborted = true; return; }
    if (!this.client.closed || !b.closed || this.onClose === undefined) return;
    const onClose = this.onClose;
    this.onClose = undefined;
    onClose(this.reason ?? this.firstFin ?? side.closedReason);
  }
}
