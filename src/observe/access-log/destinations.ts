import pino from 'pino';
import { degradeOnError } from '../degrade.js';

/** Something lines can be written to: stdout (sonic-boom, asynchronous) or a pino-roll file. */
export interface LineSink {
  /** UTF-8 bytes of whole lines (encoded once for every sink: index.ts). */
  write(data: Buffer): void;
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

/**
 * sonic-boom in buffer mode: in its default utf8 mode every write measured the string already buffered
 * (Buffer.byteLength, up to maxWrite), fs.write encoded the chunk, and the write callback encoded it once more
 * (Buffer.from in releaseWritingBuf) only to count bytes. Lines now arrive as one Buffer per event-loop turn, encoded
 * once, and are written out from minLength bytes on.
 */
const BOOM = { sync: false, minLength: 4096, contentMode: 'buffer' } as const;

/** "-" → stdout (fd 1, or the fd given for tests/TUI); anything else → a file rotated by size and/or time. */
export async function openSink(target: string, rotate: RotateOptions, stdoutFd = 1, onFailure: SinkFailure = () => undefined): Promise<LineSink> {
  if (target === '-') return wrap(pino.destination({ ...BOOM, fd: stdoutFd }), false, (err) => onFailure(target, err));
  // Loaded only for a file destination: pino-roll pulls in date-fns, ~150 ms of every start-up that logs to stdout.
  const { default: pinoRoll } = await import('pino-roll');
  const stream = await pinoRoll({
    ...BOOM, file: target, mkdir: true, limit: { count: rotate.count },
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
      // sonic-boom's types declare write(string); in contentMode 'buffer' it is writeBuffer(Buffer).
      if (!closed && !failed) (stream as unknown as { write(b: Buffer): boolean }).write(data);
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
