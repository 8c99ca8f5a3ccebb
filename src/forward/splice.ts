import type { Socket } from 'node:net';

export interface SpliceEnd {
  /** Bytes written to the upstream (client → origin) and read from it (origin → client). */
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** The first failure, if the tunnel did not end cleanly. */
  readonly error?: string;
}

/**
 * Pipes two sockets both ways with backpressure (pipe), an optional idle timeout, half-close propagation, and one
 * callback when both sides are closed. Used by blind CONNECT tunnels and WebSocket upgrades.
 */
export function splice(client: Socket, upstream: Socket, opts: { idleTimeoutMs: number; live: Set<Socket> },
  onEnd: (end: SpliceEnd) => void): void {
  opts.live.add(client);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  let error: string | undefined;
  const fail = (side: string) => (err: Error): void => {
    error ??= `${side}: ${err.message}`;
    client.destroy();
    upstream.destroy();
  };
  client.on('error', fail('client'));
  upstream.on('error', fail('upstream'));
  if (opts.idleTimeoutMs > 0) {
    const onIdle = (): void => fail('idle')(new Error(`no traffic for ${opts.idleTimeoutMs} ms`));
    client.setTimeout(opts.idleTimeoutMs, onIdle);
    upstream.setTimeout(opts.idleTimeoutMs, onIdle);
  }
  client.pipe(upstream);
  upstream.pipe(client);
  let closed = 0;
  const onClose = (): void => {
    if (++closed < 2) return;
    opts.live.delete(client);
    onEnd({ bytesUp: upstream.bytesWritten, bytesDown: upstream.bytesRead, ...(error !== undefined ? { error } : {}) });
  };
  client.once('close', () => { endWrites(upstream); onClose(); });
  upstream.once('close', () => { endWrites(client); onClose(); });
}

/**
 * Half-closes the other side once one side has closed. Not when it is closed or ended already: end() on a destroyed
 * socket builds an ERR_STREAM_DESTROYED error (a stack trace and a formatted message, for nothing), which on a
 * profile of new tunnels was two errors per tunnel.
 */
function endWrites(socket: Socket): void {
  if (!socket.destroyed && !socket.writableEnded) socket.end();
}
