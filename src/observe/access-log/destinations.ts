import pino from 'pino';
import pinoRoll from 'pino-roll';

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

/** "-" → stdout (fd 1, or the fd given for tests/TUI); anything else → a file rotated by size and/or time. */
export async function openSink(target: string, rotate: RotateOptions, stdoutFd = 1): Promise<LineSink> {
  if (target === '-') return wrap(pino.destination({ fd: stdoutFd, sync: false, minLength: 4096 }), false);
  const stream = await pinoRoll({
    file: target, mkdir: true, minLength: 4096, limit: { count: rotate.count },
    ...(rotate.size !== undefined ? { size: rotate.size } : {}),
    ...(rotate.frequency !== undefined ? { frequency: rotate.frequency } : {}),
  });
  return wrap(stream as Boom, true);
}

function wrap(stream: Boom, own: boolean): LineSink {
  let closed = false;
  // sonic-boom calls back with an error (not ready / destroyed) rather than throwing; either way we are done.
  const flush = (): Promise<void> => new Promise((resolve) => {
    if (closed) return resolve();
    try {
      stream.flush(() => resolve());
    } catch {
      resolve();
    }
  });
  return {
    write: (data) => {
      if (!closed) stream.write(data);
    },
    flush,
    async close() {
      await flush();
      if (!own || closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
      });
    },
  };
}
