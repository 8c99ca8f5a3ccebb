import type { Socket } from 'node:net';

/** Why a spliced connection ended, for the flow record. */
export type CloseReason = 'client closed' | 'backend closed' | 'client error' | 'backend error' | 'idle timeout' | 'shutdown';

export interface PipeOptions {
  readonly idleTimeoutMs: number;
  /** > 0: client→backend writes are corked and flushed after this window (write coalescing). */
  readonly coalesceWindowMs: number;
}

/** A live client↔backend splice: `stop` ends it (drain deadline), `onClose` runs once when both sockets are gone. */
export interface Splice { stop(reason: CloseReason): void }

/**
 * One direction with backpressure: each chunk goes straight to `dst.write` (no copy, no Transform); a full
 * destination pauses the source until 'drain'. The source's FIN becomes the destination's FIN (half-close).
 */
function forward(src: Socket, dst: Socket, windowMs: number): void {
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
  if (src.readableEnded) dst.end();
  else src.once('end', () => dst.end());
}

/**
 * Splices client and backend both ways. Ends on: both sides finished (half-close respected), an error on either
 * (both destroyed), the idle timeout (no byte either way on the client socket), or `stop`.
 */
export function splice(client: Socket, backend: Socket, opts: PipeOptions, onClose: (reason: CloseReason) => void): Splice {
  let reason: CloseReason | undefined;
  let open = 2;
  const end = (why: CloseReason): void => {
    reason ??= why;
    client.destroy();
    backend.destroy();
  };
  client.on('error', () => end('client error'));
  backend.on('error', () => end('backend error'));
  const closed = (why: CloseReason) => (): void => {
    reason ??= why;
    if (--open === 0) onClose(reason);
  };
  client.once('close', closed('client closed'));
  backend.once('close', closed('backend closed'));
  if (opts.idleTimeoutMs > 0) client.setTimeout(opts.idleTimeoutMs, () => end('idle timeout'));
  forward(client, backend, opts.coalesceWindowMs);
  forward(backend, client, 0);
  client.resume();
  backend.resume();
  return { stop: (why) => end(why) };
}
