import { Readable } from 'node:stream';
import { ProxyError } from '../../core/errors.js';
import { FlowAbort, flowAborted } from '../../core/flow-abort.js';
import type { RawHeaders } from '../../core/flow.js';
import { fromNodeRaw, getHeader } from '../../core/headers.js';
import type { PipelineResult } from '../../core/pipeline.js';
import { LiveFlow, type ExchangeDeps } from '../../forward/exchange.js';
import { discard } from '../../forward/respond.js';
import { HandleWriter } from '../../l4/handle-writer.js';
import * as uv from '../../l4/uv.js';
import { Llhttp, llhttpMethods, type LlhttpParser } from '../../upstream/h1/llhttp.js';
import { expressEligible, type ExpressTarget, type ParsedHead } from './eligible.js';
import { responseHead, utcDate, type ResponseFraming } from './response-head.js';

/** What a connection needs from its front door. */
export interface ExpressHost {
  /** The current exchange dependencies (a reload swaps the pipeline). */
  exchangeDeps(): ExchangeDeps;
  readonly limits: {
    readonly keepAliveTimeoutMs: number;
    readonly maxHeaderBytes: number;
    readonly maxHeaderCount: number;
    readonly maxUrlBytes: number;
  };
  /** The URL a request is served for, or undefined to hand it to node:http (the mode's own target rules). */
  readonly target: ExpressTarget;
  /** Counts exchanges in flight for the graceful shutdown. */
  begin(): void;
  end(): void;
  /** The listener still accepts (else every response says Connection: close and the connection ends after it). */
  accepting(): boolean;
  /** Gives the connection, with the bytes it has read and not answered, to node:http. */
  handOver(conn: ExpressConnection, handle: uv.TcpHandle, bytes: Buffer | undefined): void;
  /** The connection closed (not handed over). */
  closed(conn: ExpressConnection): void;
}

/** Unanswered bytes kept while an exchange runs (pipelined requests); beyond, reading stops until it is done. */
const MAX_PENDING_BYTES = 64 * 1024;
/** Bytes queued in libuv before a streamed response body is paused (net.Socket's highWaterMark). */
const HIGH_WATER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = '0\r\n\r\n';

const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = Llhttp;
/** The method names llhttp numbers (node's `methods` list). */
function methodName(n: number): string {
  return llhttpMethods[n] ?? 'GET';
}

/**
 * One client connection of the express front door, on its raw libuv handle (reading into the process's shared read
 * buffer): parses each request head with node's llhttp, runs the reverse pipeline on it, and writes the response
 * (head and body in one write when the body is in hand). One exchange at a time; pipelined requests wait as bytes. A
 * request it does not serve (expressEligible), a head split over reads or a parse error hands the connection to
 * node:http with every unanswered byte.
 */
export class ExpressConnection implements uv.ReadSink, uv.WriteSink, uv.ShutdownSink {
  state: 'idle' | 'busy' | 'closed' | 'handed' = 'idle';
  /** When the connection last became idle (monotonic ms), for the keep-alive and first-request timeouts. */
  idleSince: number;
  /** Requests answered so far. */
  requests = 0;
  private pending: Buffer | undefined;
  private llhttp: LlhttpParser | undefined;
  private parsed: ParsedHead | undefined;
  /** llhttp flushed fields before the head ended (split over reads, or more than 32 fields): node:http takes it. */
  private earlyFields = false;
  private flow: LiveFlow | undefined;
  private deps: ExchangeDeps | undefined;
  private readingStopped = false;
  private readonly out: HandleWriter;
  private onFlushed: (() => void) | undefined;
  private body: Readable | undefined;
  private finished = true;
  /** The response has started going out (so a destroy ends the exchange here, not in deliver). */
  private delivering = false;
  private handleClosed = false;

  constructor(private readonly h: uv.TcpHandle, readonly ip: string, readonly port: number, private readonly host: ExpressHost, now: number) {
    this.idleSince = now;
    this.out = new HandleWriter(h, this);
    uv.useReader(h, this, uv.sharedReadBuffer());
    uv.setNoDelay(h, true);
    uv.readStart(h);
  }

  /** Made at the first request the connection may serve (a CONNECT-only connection never needs one). */
  private get parser(): LlhttpParser {
    if (this.llhttp !== undefined) return this.llhttp;
    const parser = new Llhttp();
    parser[kOnHeaders | 0] = this.onHeaders;
    parser[kOnHeadersComplete | 0] = this.onHeadersComplete;
    parser[kOnBody | 0] = noop;
    parser[kOnMessageComplete | 0] = noop;
    this.llhttp = parser;
    this.resetParser();
    return parser;
  }

  /** Ready for a new request head (after the last one's `return 2`, llhttp must start over). */
  private resetParser(): void {
    this.parser.initialize(Llhttp.REQUEST, {}, this.host.limits.maxHeaderBytes, Llhttp.kLenientNone);
  }

  /**
   * llhttp's binding hands fields over early when a head is split over reads or has more than 32 fields: such a head
   * goes to node:http with the connection (its header timeout and count limit then apply).
   */
  private readonly onHeaders = (): void => {
    this.earlyFields = true;
  };

  private readonly onHeadersComplete = (major: number, minor: number, headers: string[] | undefined, method: number, url: string,
    _status: number, _text: string, upgrade: boolean, keepAlive: boolean): number => {
    this.parsed = { method: methodName(method), url, versionMajor: major, versionMinor: minor, rawHeaders: headers ?? [], keepAlive, upgrade };
    return 2; // stop after the head: execute() returns where it ended
  };

  /**
   * A read, in the process's shared read buffer: what is not answered before this returns (pipelined bytes, a
   * connection handed over) is copied out of it first (own()).
   */
  onRead(nread: number): undefined {
    if (this.state === 'closed' || this.state === 'handed') return;
    if (nread > 0) {
      const chunk = uv.sharedReadBuffer().subarray(0, nread);
      const idle = this.state === 'idle';
      // With nothing waiting, the read is served in place (the usual case: one request per read).
      this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
      if (idle) this.guarded(this.next);
      if (this.pending === undefined) return;
      this.pending = own(this.pending);
      if (!idle && this.pending.length > MAX_PENDING_BYTES) this.stopReading();
      return;
    }
    if (nread === 0) return;
    // EOF or a read error (a reset): the client is gone. A FIN in the middle of an exchange aborts it too, as
    // node:http does (httpAllowHalfOpen off): the upstream request is cancelled rather than answered to nobody.
    this.destroy();
  }

  /** Serves the next request in `pending`, or hands the connection over when it cannot. */
  private next(): void {
    const bytes = this.pending;
    if (bytes === undefined) return;
    // A CONNECT (the forward port's tunnels) is node:http's at once: no parse here to repeat there.
    if (bytes[0] === 0x43 && bytes.toString('latin1', 0, 8) === 'CONNECT ') return this.handOver(bytes);
    this.parsed = undefined;
    this.earlyFields = false;
    const result = this.parser.execute(bytes);
    const head = this.parsed as ParsedHead | undefined;
    if (typeof result !== 'number' || head === undefined || this.earlyFields || !expressEligible(head, this.host.limits)) return this.handOver(bytes);
    const url = this.host.target(head);
    if (url === undefined) return this.handOver(bytes);
    this.pending = result < bytes.length ? bytes.subarray(result) : undefined;
    this.resetParser();
    this.start(head, url);
  }

  private handOver(bytes: Buffer | undefined): void {
    this.state = 'handed';
    this.out.flush(); // node:http writes after what this connection wrote
    uv.readStop(this.h);
    this.pending = undefined;
    this.host.handOver(this, this.h, bytes === undefined ? undefined : own(bytes));
  }

  private start(head: ParsedHead, url: URL): void {
    this.state = 'busy';
    this.finished = false;
    this.delivering = false;
    const deps = this.host.exchangeDeps();
    this.deps = deps;
    const flow = new LiveFlow(
      deps.nextId(), deps.mode ?? 'forward', new FlowAbort(), { ip: this.ip, port: this.port },
      { method: head.method, url, version: head.versionMinor === 0 ? '1.0' : '1.1', headers: fromNodeRaw(head.rawHeaders) }, {}, deps.clock,
    );
    this.flow = flow;
    const keepAlive = head.keepAlive;
    this.host.begin();
    let result: PipelineResult | Promise<PipelineResult>;
    try {
      result = deps.pipeline.runNow(flow);
    } catch (err) {
      this.destroy();
      return this.finish(err);
    }
    if (!(result instanceof Promise)) return this.deliverGuarded(flow, result, keepAlive);
    result.then((r) => this.deliverGuarded(flow, r, keepAlive), (err: unknown) => {
      this.destroy();
      this.finish(err);
    });
  }

  /**
   * Runs a step of the connection (called from a libuv read or a promise): a bug in it ends this connection and its
   * exchange (the flow records the error), never the process with an uncaught exception or an unhandled rejection.
   */
  private guarded(step: () => void): void {
    try {
      step.call(this);
    } catch (err) {
      if (this.state === 'busy' && !this.finished) {
        this.delivering = true; // the exchange ends here, with this error
        this.destroy(err);
      } else {
        this.destroy();
      }
    }
  }

  private deliverGuarded(flow: LiveFlow, result: PipelineResult, clientKeepAlive: boolean): void {
    this.guarded(() => this.deliver(flow, result, clientKeepAlive));
  }

  private deliver(flow: LiveFlow, result: PipelineResult, clientKeepAlive: boolean): void {
    if (this.state !== 'busy') {
      // The client went away while the pipeline ran.
      discard(flow.responseBody);
      return this.finish(flowAborted(flow) ? flow.abort.reason : new ProxyError('CLIENT_ABORTED', 'client closed the connection'));
    }
    if (result.outcome === 'kill') {
      this.destroy();
      return this.finish();
    }
    this.delivering = true;
    const res = flow.response;
    if (res === undefined) {
      this.destroy();
      return this.finish(new Error('no response to write'));
    }
    const body = flow.responseBody;
    const noBody = flow.request.method === 'HEAD';
    const bytes = body instanceof Uint8Array ? body : undefined;
    const built = responseHead({
      status: res.status, reason: res.reason, headers: res.headers, noBody,
      bodyBytes: body === null || body === undefined ? 0 : bytes?.byteLength, http11: flow.request.version === '1.1',
      keepAlive: clientKeepAlive && this.host.accepting(), keepAliveTimeoutMs: this.host.limits.keepAliveTimeoutMs,
      date: utcDate(Date.now()),
    });
    if (built instanceof Error) {
      discard(body);
      return this.destroy(new ProxyError('UPSTREAM_RESET', built.message));
    }
    const after = built.keepAlive ? undefined : 'close';
    if (built.framing === 'none' || body === null || body === undefined) {
      discard(body);
      this.write(built.head);
      return this.flushed(() => this.finish(undefined, after));
    }
    if (bytes !== undefined) {
      flow.bytesOut += bytes.byteLength;
      flow.capture?.onResponse(bytes);
      const out = Buffer.allocUnsafe(built.head.length + bytes.byteLength);
      out.write(built.head, 0, 'latin1');
      out.set(bytes, built.head.length);
      this.write(out);
      return this.flushed(() => this.finish(undefined, after));
    }
    this.write(built.head);
    this.pipe(body instanceof Readable ? body : Readable.from(body, { objectMode: false }), flow, built.framing, after, contentLength(res.headers));
  }

  /** Streams a response body with backpressure (the stream pauses while libuv holds more than the high-water mark). */
  private pipe(stream: Readable, flow: LiveFlow, framing: ResponseFraming, after: 'close' | undefined, declared: number | undefined): void {
    this.body = stream;
    let sent = 0;
    const chunked = framing === 'chunked';
    stream.on('data', (chunk: Buffer) => {
      if (this.state !== 'busy' || chunk.length === 0) return;
      sent += chunk.length;
      flow.bytesOut += chunk.length;
      flow.capture?.onResponse(chunk);
      this.write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]) : chunk);
      if (this.out.queuedBytes > HIGH_WATER_BYTES) stream.pause();
    });
    stream.once('end', () => {
      this.body = undefined;
      if (this.state !== 'busy') return;
      if (chunked) this.write(LAST_CHUNK);
      // A body shorter or longer than its Content-Length leaves the connection out of step: it ends with this response.
      const close = after ?? (framing === 'close' || (declared !== undefined && declared !== sent) ? 'close' : undefined);
      this.flushed(() => this.finish(undefined, close));
    });
    stream.once('error', (err: Error) => {
      this.body = undefined;
      this.destroy(flowAborted(flow) ? flow.abort.reason : new ProxyError('UPSTREAM_RESET', err.message));
    });
  }

  /** Runs fn once everything written so far has reached the kernel (at once when nothing waits in libuv). */
  private flushed(fn: () => void): void {
    if (this.out.queued === 0) return fn();
    this.onFlushed = fn;
  }

  private write(data: string | Uint8Array): void {
    if (this.state === 'closed') return;
    this.out.write(data);
  }

  afterWrite(status: number): void {
    this.out.settled();
    if (this.state === 'closed') return;
    if (status < 0) return this.destroy();
    if (this.out.queued > 0) return;
    if (this.body?.isPaused() === true) this.body.resume();
    const fn = this.onFlushed;
    this.onFlushed = undefined;
    fn?.();
  }

  /**
   * The one end of an exchange: its flow.end (with the error it failed with, if any), then the next request on a
   * kept-alive connection, or the close.
   */
  private finish(error?: unknown, after?: 'close'): void {
    if (this.finished) return;
    this.finished = true;
    const flow = this.flow;
    const deps = this.deps;
    this.flow = undefined;
    this.deps = undefined;
    try {
      if (flow !== undefined && deps !== undefined) deps.pipeline.complete(flow, error);
    } finally {
      this.host.end();
    }
    this.requests++;
    if (this.state !== 'busy') return;
    if (after === 'close') return this.close();
    this.state = 'idle';
    this.idleSince = deps?.clock.monotonic() ?? this.idleSince;
    if (this.readingStopped) {
      this.readingStopped = false;
      uv.readStart(this.h);
    }
    if (this.pending !== undefined) this.guarded(this.next);
  }

  private stopReading(): void {
    if (this.readingStopped) return;
    this.readingStopped = true;
    uv.readStop(this.h);
  }

  /** Ends an idle connection quietly (keep-alive timeout, shutdown). */
  closeIdle(): void {
    if (this.state === 'idle') this.close();
  }

  /** A graceful end: FIN after what is written, then the handle closes. */
  close(): void {
    if (this.state === 'closed' || this.state === 'handed') return;
    this.state = 'closed';
    this.pending = undefined;
    this.out.flush(); // the FIN follows what was written
    const status = uv.shutdown(this.h, this);
    if (status !== uv.SHUTDOWN_PENDING) this.afterShutdown();
  }

  afterShutdown(): void {
    this.closeHandle();
  }

  /** Closes the handle now, also in the middle of a graceful close (shutdown's deadline). */
  closeHandle(): void {
    if (this.handleClosed) return;
    this.handleClosed = true;
    this.out.cancel();
    uv.close(this.h);
    this.host.closed(this);
  }

  /**
   * Ends the connection now: an exchange in flight is aborted (the flow's signal fires) and its body dropped; once its
   * response had started, the exchange ends here with `reason` (the client's going away unless told otherwise).
   */
  destroy(reason: unknown = new ProxyError('CLIENT_ABORTED', 'client closed the connection')): void {
    if (this.state === 'handed') return;
    if (this.state === 'closed') return this.closeHandle();
    const wasBusy = this.state === 'busy';
    this.state = 'closed';
    this.pending = undefined;
    this.onFlushed = undefined;
    this.closeHandle();
    const body = this.body;
    this.body = undefined;
    if (!wasBusy) return;
    this.flow?.closed(false);
    body?.destroy();
    if (this.delivering) this.finish(reason);
  }

  /** Writes a raw answer (a 408 for a connection that never sent a request) and ends the connection. */
  answerAndClose(text: string): void {
    if (this.state !== 'idle') return;
    this.write(text);
    this.close();
  }
}

function noop(): void {}

/** `bytes` in memory of their own: copied when they are (a view of) the shared read buffer, which the next read reuses. */
function own(bytes: Buffer): Buffer {
  return bytes.buffer === uv.sharedReadBuffer().buffer ? Buffer.from(bytes) : bytes;
}

/** The declared Content-Length, when it is a number (the body is checked against it). */
function contentLength(headers: RawHeaders): number | undefined {
  const n = Number(getHeader(headers, 'content-length'));
  return Number.isSafeInteger(n) ? n : undefined;
}
