import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, pipeline } from 'node:stream';
import type { Clock } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import { errorResponse } from '../core/error-page.js';
import type { Flow, Mode, RawHeaders } from '../core/flow.js';
import { FlowAbort, flowAborted } from '../core/flow-abort.js';
import { fromNodeRaw } from '../core/headers.js';
import type { Pipeline, PipelineResult } from '../core/pipeline.js';
import { clientAddress } from './client-address.js';
import { sendResponse, writeResponse, type CloseWatch } from './respond.js';
import type { TunnelInfo } from './tunnel-info.js';

export interface ExchangeDeps {
  readonly clock: Clock;
  readonly nextId: () => string;
  readonly pipeline: Pipeline;
  /** The mode flows are tagged with; the reverse front door reuses this module (default 'forward'). */
  readonly mode?: Mode;
}

/**
 * A live flow made by a front door. A class, so that the lazy `signal` is one getter on the prototype: an object
 * literal with a getter is built through V8's slow path on every request (measured: cache hits ~10% dearer).
 */
export class LiveFlow implements Flow, CloseWatch {
  readonly startedAt: number;
  requestBody: Flow['requestBody'] = null;
  response: Flow['response'];
  responseBody: Flow['responseBody'];
  error: Flow['error'];
  readonly timings: Flow['timings'];
  bytesIn = 0;
  bytesOut = 0;
  capture: Flow['capture'];
  /** The writer waiting for the response to close (respond.ts CloseWatch). */
  private closeWaiter: (() => void) | undefined = undefined;

  constructor(
    readonly id: string, readonly mode: Mode, readonly abort: FlowAbort, readonly client: Flow['client'],
    public request: Flow['request'], readonly notes: Flow['notes'], clock: Clock,
  ) {
    this.startedAt = clock.now();
    this.timings = { start: clock.monotonic() };
  }

  /** Built only when read. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  onClose(fn: () => void): void {
    this.closeWaiter = fn;
  }

  /** The response closed: the flow aborts when it had not finished (the client went away), then the writer hears. */
  closed(finished: boolean): void {
    if (!finished) this.abort.abort(new ProxyError('CLIENT_ABORTED', 'client closed the connection'));
    const waiter = this.closeWaiter;
    this.closeWaiter = undefined;
    waiter?.();
  }
}

/** Builds the live Flow for a request; its signal aborts when the client goes away before the response is done. */
export function createFlow(req: IncomingMessage, res: ServerResponse, url: URL, deps: ExchangeDeps, tunnel?: TunnelInfo): Flow {
  const client = tunnel ? { ...tunnel.client } : clientAddress(req.socket);
  const headers: RawHeaders = fromNodeRaw(req.rawHeaders);
  const flow = new LiveFlow(
    deps.nextId(), deps.mode ?? 'forward', new FlowAbort(),
    tunnel?.user !== undefined ? { ...client, user: tunnel.user } : client,
    { method: req.method ?? 'GET', url, version: req.httpVersion === '1.0' ? '1.0' : '1.1', headers },
    tunnel ? { intercepted: tunnel.secure, tunnel: tunnel.id } : {}, deps.clock,
  );
  // One 'close' listener for the abort and the writer (a second listener, and emit's copy of the list, per request).
  // A response closes once: on() spares once()'s wrapper.
  res.on('close', () => flow.closed(res.writableFinished));
  if (hasBody(req)) flow.requestBody = countingBody(req, flow);
  return flow;
}

/**
 * The request body as the upstream will read it, counted on the way. A 'data' listener on req itself would switch
 * it to flowing mode before the upstream reads and lose the first chunks.
 */
function countingBody(req: IncomingMessage, flow: Flow): Transform {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      flow.bytesIn += chunk.length;
      flow.capture?.onRequest(chunk);
      callback(null, chunk);
    },
  });
  pipeline(req, counter, () => undefined);
  return counter;
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * Runs the pipeline for a flow and writes the outcome; always ends in exactly one flow.end, then calls `done` once.
 * A callback, not a promise: both front doors' hot path, where a memory-cache hit is answered in the request's own
 * turn with no promise built (each async layer here cost a promise and a microtask hop per request).
 */
export function exchange(flow: Flow, res: ServerResponse, deps: ExchangeDeps, done: () => void): void {
  const result = deps.pipeline.runNow(flow);
  if (!(result instanceof Promise)) return deliver(flow, res, deps, result, done);
  result.then((r) => deliver(flow, res, deps, r, done), (err: unknown) => { // a bug: the pipeline funnels its failures
    res.destroy();
    finish(flow, res, deps, err, done);
  });
}

function deliver(flow: Flow, res: ServerResponse, deps: ExchangeDeps, result: PipelineResult, done: () => void): void {
  if (result.outcome === 'kill') {
    res.socket?.destroy();
    return finish(flow, res, deps, undefined, done);
  }
  sendResponse(res, flow, (err) => {
    if (err === undefined) return finish(flow, res, deps, undefined, done);
    res.destroy();
    finish(flow, res, deps, flowAborted(flow) ? flow.signal.reason : new ProxyError('UPSTREAM_RESET', describe(err)), done);
  }, flow instanceof LiveFlow ? flow : undefined);
}

/** The one flow.end, then done, even if building the record failed (the exchange must still count as over). */
function finish(flow: Flow, res: ServerResponse, deps: ExchangeDeps, error: unknown, done: () => void): void {
  try {
    deps.pipeline.complete(flow, error);
  } catch (e) {
    res.destroy(e instanceof Error ? e : undefined);
  } finally {
    done();
  }
}

/** Answers a request that never reaches the pipeline (bad target, host mismatch) and still emits its flow. */
export async function rejectExchange(flow: Flow, res: ServerResponse, error: ProxyError, deps: ExchangeDeps): Promise<void> {
  flow.error = error;
  const page = errorResponse(error, flow);
  flow.response = page.head;
  flow.responseBody = page.body;
  flow.notes.source = 'local';
  if (error.status === 400 || error.status === 421) res.shouldKeepAlive = false;
  await writeResponse(res, flow).catch(() => res.destroy());
  deps.pipeline.complete(flow);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
