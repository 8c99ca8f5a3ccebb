import type pino from 'pino';

type Boom = ReturnType<typeof pino.destination>;

/**
 * A sonic-boom destination that fails for good (ENOSPC on a full disk, EIO) is turned into a no-op, the way pino
 * itself treats EPIPE, and `onFailure` is told once. Left alone, the error is re-thrown by pino as an uncaught
 * exception, and pino's exit handler then calls flushSync, which retries a failing write every 100 ms forever:
 * the process neither serves nor stops (SIGTERM included).
 */
export function degradeOnError(stream: Boom, onFailure: (err: Error) => void): void {
  let failed = false;
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
