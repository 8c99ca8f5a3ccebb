import pino from 'pino';
import pinoRoll from 'pino-roll';
import { degradeOnError } from '../degrade.js';

/** Something lines can be written to: stdout (sonic-boom, asynchronous) or a pino-roll file. */
export interface LineSink {
  write(data: string): void;
  /** Writes out what is buffered (SIGTERM: nothing may be lost). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface RotateOptions {
  readonly size?: string | undefined;
  readonly frequency?: 'daily' | 'hourly' | undefined;
  readonly count: number;
}

type Boom = ReturnType<typeof pino.destination>;

/** Told once when a destination fails for good (disk full, EPIO, stdout closed): the sink then drops its lines. */
export type SinkFailure = (target: string, err: Error) => void;

/** "-" → stdout (fd 1, or the fd given for tests/TUI); anything else → a file rotated by size and/or time. */
export async function openSink(target: string, rotate: RotateOptions, stdoutFd = 1, onFailure: SinkFailure = () => undefined): Promise<LineSink> {
  if (target === '-') return wrap(pino.destination({ fd: stdoutFd, sync: false, minLength: 4096 }), false, (err) => onFailure(target, err));
  const stream = await pinoRoll({
    file: target, mkdir: true, minLength: 4096, limit: { count: rotate.count },
    ...(rotate.size !== undefined ? { size: rotate.size } : {}),
    ...(rotate.frequency !== undefined ? { frequency: rotate.frequency } : {}),
  });
  return wrap(stream as Boom, true, (err) => onFailure(target, err));
}

function wrap(stream: Boom, own: boolean, onFailure: (err: Error) => void): LineSink {
  let closed = false;
  // sonic-boom emits 'error' on a failed write (ENOSPC on a full disk): unhandled, that would end the process.
  // The access log is an observer: it degrades (this destination stops, one warning), the proxy carries on.
  let failed = false;
  degradeOnError(stream, (err) => {
    failed = true;
    onFailure(err);
  });
  // sonic-boom calls back with an error (not ready / destroyed) rather than throwing; either way we are done.
  const flush = (): Promise<void> => new Promise((resolve) => {
    if (closed || failed) return resolve();
    try {
      stream.flush(() => resolve());
    } catch {
      resolve();
    }
  });
  return {
    write: (data) => {
      if (!closed && !failed) stream.write(data);
    },
    flush,
    async close() {
      await flush();
      if (!own || closed) return;
      closed = true;
      if (failed) {
        stream.destroy();
        return;
      }
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
      });
    },
  };
}
