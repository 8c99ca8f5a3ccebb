import type { Socket } from 'node:net';
import type { L4Backend } from './backend.js';
import type { ReusedReads } from './pipe.js';

/** A connected backend socket waiting for a client. */
interface Warm {
  readonly socket: Socket;
  readonly reads: ReusedReads;
  /** Monotonic ms when it connected (it expires `maxIdleMs` later). */
  readonly since: number;
}

export interface WarmOptions {
  /** Sockets kept connected (or connecting) per backend. */
  readonly perBackend: number;
  /** A warm socket unused this long is closed (the backend may time it out itself otherwise). */
  readonly maxIdleMs: number;
}

/** How a warm socket is opened: the pool's dial (socket options, connect timeout); `done` once, with or without it. */
export type WarmDial = (b: L4Backend, done: (socket: Socket | undefined, reads: ReusedReads | undefined) => void) => void;

/**
 * Backend pre-connect (Envoy's cluster `preconnect_policy`, which also serves its TCP proxy): a few connected
 * sockets per backend so a new client is spliced at once instead of waiting a connect. The picker still picks the
 * backend; only then is one of its warm sockets taken (and another one opened behind it). Sockets are opened only
 * after a client was sent to that backend, so an unused backend or a down one gets no connections of its own; a
 * failed pre-connect is not retried until the next client and is not a health verdict (no client saw it).
 *
 * A warm socket reads while it waits, so a backend's close, reset or error removes it at once (never handed out),
 * and a greeting it sends is held and forwarded first. The owner counts them in the backend's cap through
 * `b.warm`/`b.warming`, expires them in `sweep`, and `close` destroys them all (drain, reload, shutdown).
 */
export class WarmSockets {
  private readonly ready = new Map<L4Backend, Warm[]>();
  private closed = false;

  constructor(private readonly opts: WarmOptions, private readonly dial: WarmDial,
    private readonly now: () => number, private readonly capOf: () => number) {}

  /** A warm socket of `b` (the oldest still open), or undefined; it is no longer counted as warm. */
  take(b: L4Backend): { socket: Socket; reads: ReusedReads } | undefined {
    const list = this.ready.get(b);
    if (list === undefined) return undefined;
    for (let w = list.shift(); w !== undefined; w = list.shift()) {
      b.warm--;
      if (!w.socket.destroyed && !w.socket.readableEnded) { w.socket.ref(); return w; }
      w.socket.destroy();
    }
    return undefined;
  }

  /** Tops `b` up to `perBackend` ready-or-connecting sockets, within its connection cap. */
  fill(b: L4Backend): void {
    const cap = this.capOf();
    while (!this.closed && b.warm + b.warming < this.opts.perBackend && (cap === 0 || b.active + b.warm + b.warming < cap)) {
      b.warming++;
      this.dial(b, (socket, reads) => {
        b.warming--;
        if (socket === undefined || reads === undefined) return;
        if (this.closed) { socket.destroy(); return; }
        this.keep(b, { socket, reads, since: this.now() });
      });
    }
  }

  /** Closes warm sockets idle for `maxIdleMs` or more. */
  sweep(now: number): void {
    for (const [b, list] of this.ready) {
      while (list.length > 0 && now - (list[0] as Warm).since >= this.opts.maxIdleMs) this.drop(b, list.shift() as Warm);
    }
  }

  /** Destroys every warm socket; connects still in flight are destroyed when they finish. */
  close(): void {
    this.closed = true;
    for (const [b, list] of this.ready) for (const w of list.splice(0)) this.drop(b, w);
  }

  private keep(b: L4Backend, w: Warm): void {
    let list = this.ready.get(b);
    if (list === undefined) { list = []; this.ready.set(b, list); }
    list.push(w);
    b.warm++;
    const gone = (): void => {
      const i = list.indexOf(w);
      if (i >= 0) { list.splice(i, 1); b.warm--; w.socket.destroy(); }
    };
    // While warm it reads (into its held greeting): a FIN, reset or error takes it out of the list.
    w.socket.once('end', gone);
    w.socket.once('close', gone);
    w.socket.on('error', gone);
    w.socket.unref(); // a warm socket alone does not keep the process alive
    w.socket.resume();
  }

  private drop(b: L4Backend, w: Warm): void {
    b.warm--;
    w.socket.destroy();
  }
}
