import { writeSync } from 'node:fs';
import type pino from 'pino';

type Boom = ReturnType<typeof pino.destination>;

/**
 * A sonic-boom destination that fails for good (ENOSPC on a full disk, EIO) is turned into a no-op, the way pino
 * itself treats EPIPE, and `onFailure` is told once. Left alone, the error is re-thrown by pino as an uncaught
 * exception, and pino's exit handler then calls flushSync, which retries a failing write every 100 ms forever:
 * the process neither serves nor stops (SIGTERM included).
 *
 * flushSync is also bounded from the start (boundedFlushSync): a process that exits before any asynchronous write
 * failed, with lines still buffered for a reader that has gone, hung in that same loop at exit (measured: a second
 * SIGTERM during a graceful drain, stdout's reader closed, never returned).
 */
export function degradeOnError(stream: Boom, onFailure: (err: Error) => void): void {
  let failed = false;
  Object.assign(stream, { flushSync: boundedFlushSync(stream) });
  stream.on('error', (err: Error) => {
    if (failed) return;
    failed = true;
    const noop = (): void => undefined;
    Object.assign(stream, {
      write: () => true, flushSync: noop, end: noop,
      flush: (cb?: (err?: Error) => void) => { cb?.(); },
    });
    onFailure(err);
  });
}

/** sonic-boom's buffered state (v4), read by boundedFlushSync; checked, never assumed. */
interface BoomState {
  fd?: unknown;
  _writing?: unknown;
  _writingBuf?: unknown;
  _bufs?: unknown;
  _lens?: unknown;
  _len?: unknown;
}

/** EAGAIN (a reader that is there but slow) is retried this many times, this far apart: at most ~0.5 s in all. */
const EAGAIN_TRIES = 20;
const EAGAIN_SLEEP_MS = 25;

/**
 * A flushSync for a sonic-boom destination without its endless retry loop: it writes what sonic-boom's own would (the
 * buffered lines, not a write still in flight), once, with short EAGAIN retries; any other failure (EPIPE, ENOSPC,
 * EBADF) ends it and the rest is dropped. The buffers are taken first, so nothing is written twice. A sonic-boom whose
 * state is shaped otherwise flushes nothing rather than risk the hang.
 */
export function boundedFlushSync(stream: object): () => void {
  const s = stream as BoomState;
  return () => {
    const { fd, _bufs: bufs, _writingBuf: writingBuf } = s;
    if (typeof fd !== 'number' || fd < 0 || !Array.isArray(bufs)) return;
    const parts: unknown[] = [];
    if (s._writing !== true && isChunk(writingBuf) && writingBuf.length > 0) {
      parts.push(writingBuf);
      s._writingBuf = typeof writingBuf === 'string' ? '' : Buffer.alloc(0);
    }
    // utf8 mode buffers strings; buffer mode (contentMode 'buffer') lists of Buffers, with their lengths in _lens.
    for (const b of bufs as unknown[]) {
      if (Array.isArray(b)) parts.push(...(b as unknown[]));
      else parts.push(b);
    }
    s._bufs = [];
    if (Array.isArray(s._lens)) s._lens = [];
    s._len = s._writing === true && isChunk(s._writingBuf) ? s._writingBuf.length : 0;
    for (const part of parts) {
      if (!isChunk(part) || !writeAllSync(fd, typeof part === 'string' ? Buffer.from(part, 'utf8') : part)) return;
    }
  };
}

function isChunk(x: unknown): x is string | Uint8Array {
  return typeof x === 'string' || x instanceof Uint8Array;
}

/** Every byte of `data` to `fd`; false when the write failed (EAGAIN only after its retries). */
function writeAllSync(fd: number, data: Uint8Array): boolean {
  let offset = 0;
  let tries = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset);
      tries = 0;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'EAGAIN' && code !== 'EBUSY') || ++tries > EAGAIN_TRIES) return false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, EAGAIN_SLEEP_MS);
    }
  }
  return true;
}
