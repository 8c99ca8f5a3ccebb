import type { Socket } from 'node:net';
import { dropReadBuffer, giveReadBuffer, takeReadBuffer } from './read-buffers.js';

/** Why a spliced connection ended, for the flow record. */
export type CloseReason = 'client closed' | 'backend closed' | 'client error' | 'backend error' | 'idle timeout' | 'shutdown';

export interface PipeOptions {
  readonly idleTimeoutMs: number;
  /** > 0: client→backend writes are corked and flushed after this window (write coalescing). */
  readonly coalesceWindowMs: number;
}

/** A live client↔backend splice: `stop` ends it (drain deadline), `onClose` runs once when both sockets are gone. */
export interface Splice { stop(reason: CloseReason): void }

/** Bytes a pre-connected socket reads before a client takes it (a greeting); more wait in the kernel. */
const MAX_HELD = 64 * 1024;

/**
 * A socket's reads into one reused buffer (net `onread`) instead of a new Buffer per read. Each read's bytes go
 * straight to the destination socket; while the kernel takes them at once the same buffer serves the next read, and
 * only a write that stays queued (destination full or corked) keeps that buffer and makes the next read take a
 * fresh one. A new 64 KiB Buffer per read is what made the 100 KiB case slow: V8 counts each as external memory and
 * collects young and old generations for it ("external memory pressure"), and with Portico's heap every full
 * collection took 15-50 ms in which nothing was forwarded. Buffers of closed connections serve new ones, so a new
 * connection per request allocates none either.
 *
 * The socket is made paused (call `pause()` before it connects) so no byte is read before `attach`, and calls
 * `release` when it has closed.
 */
export class ReusedReads {
  /** Taken from the spare list (a new connection allocates no 64 KiB of its own) and given back by `release`. */
  private buf = takeReadBuffer();
  private lent = false;
  private dst: Socket | undefined;
  /** Read before `attach` (a warm socket's greeting): copies, forwarded first. */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  /** For `net.connect({ onread })`: `buffer` runs once at start and after each read, `callback` for each read. */
  readonly onread = {
    buffer: (): Buffer => {
      if (this.lent) { dropReadBuffer(); this.buf = takeReadBuffer(); this.lent = false; }
      return this.buf;
    },
    callback: (n: number, buf: Buffer): boolean => {
      const dst = this.dst;
      if (dst === undefined) return this.hold(buf, n); // a warm socket, not attached yet
      const more = dst.write(buf.subarray(0, n));
      // Anything queued means the write may still point into buf: the next read must not overwrite it.
      if (dst.writableLength > 0) this.lent = true;
      return more; // false stops reading until the destination drains
    },
  };

  /** The socket is closed (no read can come): its buffer serves a later connection unless a write still holds it. */
  release(): void {
    if (this.lent) dropReadBuffer(); // a write may still point into it: the collector frees it
    else giveReadBuffer(this.buf);
    this.lent = true;
  }

  /** Keeps a copy (`buf` is reused); false stops reading once `MAX_HELD` bytes wait. */
  private hold(buf: Buffer, n: number): boolean {
    (this.held ??= []).push(Buffer.from(buf.subarray(0, n)));
    this.heldBytes += n;
    return this.heldBytes < MAX_HELD;
  }

  /** Starts forwarding `src`'s reads to `dst` with backpressure; `onEnd` runs at `src`'s FIN (see `splice`). */
  attach(src: Socket, dst: Socket, onEnd: () => void): void {
    this.dst = dst;
    if (this.held !== undefined) {
      for (const b of this.held) dst.write(b);
      this.held = undefined;
    }
    dst.on('drain', () => src.resume());
    if (src.readableEnded) onEnd();
    else src.once('end', onEnd);
    src.resume();
  }
}

/**
 * Passes a FIN on to `dst`. When `dst` has already sent its own FIN and every byte written to it has left, this is
 * the connection's last step: closing sends the FIN (nothing unread, no RST) without a shutdown call and its
 * asynchronous callback first, one syscall and one loop round less per connection. Otherwise a half-close
 * (`end`): `dst` may still be sending.
 */
function endWrites(dst: Socket): void {
  if (dst.readableEnded && dst.writableLength === 0) dst.destroy();
  else dst.end();
}

/**
 * One direction with backpressure: each chunk goes straight to `dst.write` (no copy, no Transform); a full
 * destination pauses the source until 'drain'. `onEnd` runs at the source's FIN (see `splice`).
 */
function forward(src: Socket, dst: Socket, windowMs: number, onEnd: () => void): void {
  if (windowMs > 0) {
    let corked = false;
    const flush = (): void => { corked = false; dst.uncork(); };
    src.on('data', (chunk: Buffer) => {
      if (!corked) { corked = true; dst.cork(); setTimeout(flush, windowMs); }
      if (!dst.write(chunk)) src.pause();
    });
  } else {
    src.on('data', (chunk: Buffer) => { if (!dst.write(chunk)) src.pause(); });
  }
  dst.on('drain', () => src.resume());
  // A preface reader may have consumed every byte and the FIN already ('end' then fired before this listener).
  if (src.readableEnded) onEnd();
  else src.once('end', onEnd);
}

/**
 * Splices client and backend both ways (the backend's reads through its `ReusedReads`, made by `dialBackend`). Ends on: both sides finished (half-close respected), an error on either
 * (both destroyed), the idle timeout (no byte either way on the client socket), or `stop`.
 */
export function splice(client: Socket, backend: Socket, backendReads: ReusedReads, opts: PipeOptions, onClose: (reason: CloseReason) => void): Splice {
  let reason: CloseReason | undefined;
  /** The side whose FIN came first ended the connection, whichever socket then finishes closing first. */
  let firstFin: CloseReason | undefined;
  let open = 2;
  const end = (why: CloseReason): void => {
    reason ??= why;
    client.destroy();
    backend.destroy();
  };
  client.on('error', () => end('client error'));
  backend.on('error', () => end('backend error'));
  const closed = (why: CloseReason) => (): void => {
    reason ??= firstFin ?? why;
    if (--open === 0) onClose(reason);
  };
  client.once('close', closed('client closed'));
  backend.once('close', closed('backend closed'));
  if (opts.idleTimeoutMs > 0) client.setTimeout(opts.idleTimeoutMs, () => end('idle timeout'));
  // Each FIN is passed on (half-close).
  forward(client, backend, opts.coalesceWindowMs, () => { firstFin ??= 'client closed'; endWrites(backend); });
  backendReads.attach(backend, client, () => { firstFin ??= 'backend closed'; endWrites(client); });
  client.resume();
  return { stop: (why) => end(why) };
}
