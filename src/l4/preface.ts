import type { Socket } from 'node:net';

export type PrefaceVerdict = 'more' | 'enough';

export class PrefaceError extends Error {}

/**
 * Reads the first bytes of a connection (a PROXY header, a TLS ClientHello) until `decide` has enough, at most
 * `maxBytes` and `timeoutMs`. The socket is left paused with nothing lost: the bytes read are returned and must be
 * forwarded first. Rejects with a PrefaceError on timeout, overflow or an early close.
 */
export function readPreface(socket: Socket, initial: Buffer, decide: (buf: Buffer) => PrefaceVerdict,
  limits: { maxBytes: number; timeoutMs: number; what: string }): Promise<Buffer> {
  if (initial.length > 0 && decide(initial) === 'enough') return Promise.resolve(initial);
  return new Promise((resolve, reject) => {
    let buf = initial;
    const finish = (err: Error | undefined): void => {
      socket.pause();
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (err === undefined) resolve(buf);
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (decide(buf) === 'enough') finish(undefined);
      else if (buf.length >= limits.maxBytes) finish(new PrefaceError(`no complete ${limits.what} within ${limits.maxBytes} bytes`));
    };
    const onEnd = (): void => finish(new PrefaceError(`client closed before a complete ${limits.what}`));
    const timer = setTimeout(() => finish(new PrefaceError(`no complete ${limits.what} within ${limits.timeoutMs} ms`)), limits.timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}
