import type { Readable } from 'node:stream';
import { bodyTimeout, H1Error, H1SocketError, headersTimeout, requestLengthMismatch } from './errors.js';
import { Llhttp, type LlhttpParser, type OnHeaders, type OnHeadersComplete } from './llhttp.js';
import type { BodyFraming } from './request-head.js';
import type { H1Handler, H1Socket } from './types.js';

/** One request on a connection, from the write of its head to its response's last byte. */
export class Exchange {
  /**
   * Sweeps since the last sign of life (request written, headers, a body chunk), or spent waiting in the pool's queue
   * before that; the pool's sweeper counts.
   */
  idleSweeps = 0;
  headersDone = false;
  /** A 1xx response is being parsed: llhttp reports it as a message of its own, which is not the answer. */
  informational = false;
  headWritten = false;
  bodyWritten = false;
  finished = false;
  keepAlive = false;
  bytesWritten = 0;

  constructor(
    readonly handler: H1Handler, readonly head: string, readonly framing: BodyFraming, readonly body: Readable | null,
    readonly skipBody: boolean, readonly headersTimeoutMs: number, readonly bodyTimeoutMs: number,
  ) {}

  /** Ends it with an error, once: a request body not sent whole is dropped, and the handler hears why. */
  abandon(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (this.body && !this.bodyWritten) this.body.destroy();
    this.handler.onError?.(err);
  }
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The exchange completed and the connection may carry another one. */
  release(conn: H1Connection): void;
  /** The connection is gone (closed, failed, or not reusable). */
  removed(conn: H1Connection): void;
}

const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = Llhttp;
const kOnHeadersKey = kOnHeaders | 0;
const kOnHeadersCompleteKey = kOnHeadersComplete | 0;
const kOnBodyKey = kOnBody | 0;
const kOnMessageCompleteKey = kOnMessageComplete | 0;

/**
 * One keep-alive HTTP/1.1 connection to an upstream: writes a request's head and body, parses the response with node's
 * llhttp, hands it to the exchange's handler, and goes back to its pool when the response ended cleanly on a
 * connection both sides keep open. No pipelining: one exchange at a time.
 */
export class H1Connection {
  exchange: Exchange | undefined;
  /** Sweeps spent idle in the pool (keep-alive expiry). */
  idleSweeps = 0;
  /** The server's `Keep-Alive: timeout=N` hint, in ms, when shorter than the pool's own idle limit. */
  idleLimitMs: number | undefined;
  closed = false;
  /** Inside the handler's onConnect: an abort there leaves the connection unused (start() then returns false). */
  private starting = false;
  private paused = false;
  private partial: string[] | undefined;
  private readonly parser: LlhttpParser;
  private readonly resume = (): void => {
    if (this.paused) {
      this.paused = false;
      if (this.exchange) this.exchange.idleSweeps = 0; // time spent paused by the reader is not the upstream's silence
      this.socket.resume();
    }
  };

  private readonly abort = (err?: Error): void => {
    const ex = this.exchange;
    if (!ex || ex.finished) return;
    const reason = err ?? new H1Error('UND_ERR_ABORTED', 'the request was aborted');
    if (!this.starting) return this.fail(ex, reason);
    // Aborted from onConnect, before anything was written: the connection stays clean and goes back to the pool.
    this.exchange = undefined;
    ex.abandon(reason);
  };

  constructor(readonly socket: H1Socket, private readonly owner: ConnectionOwner, maxHeaderBytes: number) {
    const parser = new Llhttp();
    parser.initialize(Llhttp.RESPONSE, {}, maxHeaderBytes, Llhttp.kLenientNone);
    parser[kOnHeadersKey] = this.onHeaders;
    parser[kOnHeadersCompleteKey] = this.onHeadersComplete;
    parser[kOnBodyKey] = this.onBody;
    parser[kOnMessageCompleteKey] = this.onMessageComplete;
    this.parser = parser;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
  }

  /**
   * Writes the exchange's request: the head now, or for a body with its first chunk (or at its end), so a request
   * whose body fails before its first byte (a client cut off, a front door that refuses the framing) never reaches
   * the upstream at all, as with undici. False when the handler aborted it from onConnect, before anything was written.
   */
  start(ex: Exchange): boolean {
    this.exchange = ex;
    this.idleSweeps = 0;
    ex.idleSweeps = 0; // the sweeps it waited in the queue are not the upstream's silence
    this.starting = true;
    ex.handler.onConnect?.(this.abort);
    this.starting = false;
    if (ex.finished) return false;
    if (ex.body === null || ex.framing.kind === 'none') {
      ex.headWritten = true;
      ex.bodyWritten = true;
      this.socket.write(ex.head, 'latin1');
      return true;
    }
    this.streamBody(ex, ex.body);
    return true;
  }

  private streamBody(ex: Exchange, body: Readable): void {
    if (body.destroyed) {
      // It failed while the request waited for this connection (its 'error' and 'close' have been and gone).
      this.fail(ex, body.errored ?? new H1Error('UND_ERR_ABORTED', 'the request body was closed before its end'));
      return;
    }
    const chunked = ex.framing.kind === 'chunked';
    const limit = ex.framing.kind === 'length' ? ex.framing.bytes : Infinity;
    const socket = this.socket;
    body.on('data', (chunk: Buffer) => {
      if (ex.finished || chunk.length === 0) return;
      ex.bytesWritten += chunk.length;
      if (ex.bytesWritten > limit) return this.fail(ex, requestLengthMismatch());
      ex.idleSweeps = 0;
      socket.cork();
      if (!ex.headWritten) {
        ex.headWritten = true;
        socket.write(ex.head, 'latin1');
      }
      let more: boolean;
      if (chunked) {
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        more = socket.write('\r\n', 'latin1');
      } else {
        more = socket.write(chunk);
      }
      socket.uncork();
      if (!more) body.pause();
    });
    body.once('end', () => {
      if (ex.finished) return;
      if (limit !== Infinity && ex.bytesWritten !== limit) return this.fail(ex, requestLengthMismatch());
      const tail = chunked ? '0\r\n\r\n' : '';
      if (!ex.headWritten) {
        ex.headWritten = true;
        socket.write(ex.head + tail, 'latin1');
      } else if (tail) {
        socket.write(tail, 'latin1');
      }
      ex.bodyWritten = true;
    });
    body.once('error', (err) => {
      if (!ex.finished) this.fail(ex, err);
    });
    // Destroyed without an error (the front door dropped the client): the request can never be completed.
    body.once('close', () => {
      if (!ex.finished && !ex.bodyWritten) this.fail(ex, new H1Error('UND_ERR_ABORTED', 'the request body was closed before its end'));
    });
  }

  private readonly onDrain = (): void => {
    const ex = this.exchange;
    if (ex && !ex.bodyWritten && ex.body?.isPaused()) ex.body.resume();
  };

  private readonly onData = (chunk: Buffer): void => {
    const result = this.parser.execute(chunk);
    if (typeof result !== 'number') this.failCurrent(result);
  };

  private readonly onEnd = (): void => {
    // A body delimited by the connection's end (no length, not chunked) completes here.
    const result = this.parser.finish();
    if (result !== undefined) this.failCurrent(result);
    this.failCurrent(new H1SocketError('the upstream closed the connection', { bytesRead: this.socket.bytesRead }));
    this.destroy();
  };

  private readonly onError = (err: Error): void => {
    this.failCurrent(new H1SocketError(`upstream connection failed: ${err.message}`, { bytesRead: this.socket.bytesRead }, { cause: err }));
    this.destroy();
  };

  private readonly onClose = (): void => {
    this.failCurrent(new H1SocketError('the upstream closed the connection', { bytesRead: this.socket.bytesRead }));
    this.markClosed();
  };

  private readonly onHeaders: OnHeaders = (headers) => {
    (this.partial ??= []).push(...headers);
  };

  private readonly onHeadersComplete: OnHeadersComplete = (_maj, _min, headers, _method, _url, status, statusText, upgrade, keepAlive) => {
    const ex = this.exchange;
    let fields = headers;
    if (this.partial !== undefined) {
      fields = headers ? this.partial.concat(headers) : this.partial;
      this.partial = undefined;
    }
    if (!ex || ex.finished) {
      // Bytes nobody asked for (a response after the exchange ended): the connection is out of step.
      this.destroy();
      return 1;
    }
    ex.idleSweeps = 0;
    if (status < 200 && status !== 101) {
      ex.informational = true; // 100 Continue, 103 Early Hints: not forwarded in this version
      return 1;
    }
    if (upgrade) {
      this.fail(ex, new H1Error('HPE_UNEXPECTED_UPGRADE', `the upstream switched protocols (${status}) without being asked`));
      return 1;
    }
    ex.headersDone = true;
    ex.keepAlive = keepAlive;
    if (keepAlive) this.noteKeepAliveHint(fields);
    const goOn = ex.handler.onHeaders?.(status, fields ?? [], this.resume, statusText);
    if (goOn === false) this.pause();
    return ex.skipBody ? 1 : 0;
  };

  private readonly onBody = (chunk: Buffer): void => {
    const ex = this.exchange;
    if (!ex || ex.finished) return;
    ex.idleSweeps = 0;
    if (ex.handler.onData?.(chunk) === false) this.pause();
  };

  private readonly onMessageComplete = (): void => {
    const ex = this.exchange;
    if (!ex || ex.finished) return;
    if (ex.informational) {
      ex.informational = false;
      return;
    }
    ex.finished = true;
    this.exchange = undefined;
    ex.handler.onComplete?.([]);
    if (!ex.bodyWritten) {
      // The response ended before the request body did (an early 413, say): the rest will not be read.
      ex.body?.destroy();
      return this.destroy();
    }
    if (!ex.keepAlive || this.closed) return this.destroy();
    this.resume();
    this.owner.release(this);
  };

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Reads the server's idle limit from `Keep-Alive: timeout=N` (seconds), as undici does, keeping a second's margin. */
  private noteKeepAliveHint(fields: string[] | undefined): void {
    if (!fields) return;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] as string;
      if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
      const m = /(?:^|[\s,])timeout=(\d+)/i.exec(fields[i + 1] as string);
      if (m) this.idleLimitMs = Math.max(0, Number(m[1]) * 1000 - 1000);
    }
  }

  /** Timeouts, as the pool's sweeper measures them: `sweeps` of `sweepMs` without progress. */
  checkTimeouts(sweepMs: number): void {
    const ex = this.exchange;
    if (!ex || ex.finished) return;
    ex.idleSweeps++;
    const quietMs = (ex.idleSweeps - 1) * sweepMs;
    if (!ex.headersDone) {
      if (ex.headersTimeoutMs > 0 && quietMs >= ex.headersTimeoutMs) this.fail(ex, headersTimeout(ex.headersTimeoutMs));
    } else if (ex.bodyTimeoutMs > 0 && !this.paused && quietMs >= ex.bodyTimeoutMs) {
      this.fail(ex, bodyTimeout(ex.bodyTimeoutMs));
    }
  }

  private failCurrent(err: Error): void {
    const ex = this.exchange;
    if (ex && !ex.finished) this.fail(ex, err);
  }

  /** Ends an exchange with an error: the connection is in an unknown state, so it goes too. */
  fail(ex: Exchange, err: Error): void {
    if (this.exchange === ex) this.exchange = undefined;
    this.destroy();
    ex.abandon(err);
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.removed(this);
  }
}
