/**
 * The 64 KiB read buffers of L4 connections (pipe.ts's ReusedReads, handle-splice.ts), kept for reuse when a
 * connection closes. Allocating them is what costs: V8 counts each as external memory and, past a limit, runs
 * young and full collections for it ("external memory pressure"; a full one marks Portico's whole heap).
 *
 * The spare list follows the load: it keeps as many buffers as were in use at once lately (at least MIN_SPARE, at
 * most MAX_SPARE), so a new connection per request finds one even when the number of open connections swings.
 * With a fixed 64, wrk -c50 with `Connection: close` swung past it and allocated for ~11% of the buffers taken
 * (~1500 a second), which started a full collection every 1-2 s. "Lately" is the previous window of PEAK_WINDOW
 * takes; a quiet process keeps what its last busy window needed, never more than MAX_SPARE (32 MiB).
 */

/** libuv's own read size: one read never returns more. */
export const READ_SIZE = 64 * 1024;
const MIN_SPARE = 64;
const MAX_SPARE = 512;
const PEAK_WINDOW = 65_536;

const spare: Buffer[] = [];
/** Buffers taken and neither given back nor dropped. */
let inUse = 0;
let peak = 0;
let windowPeak = 0;
let takes = 0;

/** A read buffer: a spare one of a closed connection, else a new one. */
export function takeReadBuffer(): Buffer {
  if (++inUse > windowPeak) windowPeak = inUse;
  if (++takes >= PEAK_WINDOW) { peak = windowPeak; windowPeak = inUse; takes = 0; }
  return spare.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);
}

/** Gives a buffer back for later connections: only one that no read or write will touch again. */
export function giveReadBuffer(buf: Buffer): void {
  inUse--;
  if (spare.length < Math.min(MAX_SPARE, Math.max(MIN_SPARE, peak, windowPeak))) spare.push(buf);
}

/** A taken buffer left to the garbage collector (a write may still hold it): no longer counted as in use. */
export function dropReadBuffer(): void {
  inUse--;
}
