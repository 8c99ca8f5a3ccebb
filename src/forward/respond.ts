import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Flow } from '../core/flow.js';
import { toNodeRaw } from '../core/headers.js';
import { once } from '../core/once.js';

/** Told once how writing a response ended: undefined when the body is done, an Error when it was cut short. */
export type WriteDone = (err?: Error) => void;

/** The front door's own 'close' listener on the response, which the writer may join instead of adding a second. */
export interface CloseWatch {
  /** fn runs once when the response closes (after the front door's own handling). */
  onClose(fn: () => void): void;
}

/**
 * Writes flow.response to the client, streaming the body with backpressure. Resolves when the body is done and
 * rejects when it was cut short (the client then sees a truncated response — a closed connection without the final
 * chunk or with fewer bytes than Content-Length — never a corrupted one).
 */
export function writeResponse(res: ServerResponse, flow: Flow): Promise<void> {
  return new Promise((resolve, reject) => sendResponse(res, flow, (err) => (err ? reject(err) : resolve())));
}

/**
 * writeResponse with a callback, called exactly once (possibly before this returns), instead of a promise: the front
 * door's hot path, where a memory-cache hit then builds no promise at all.
 */
export function sendResponse(res: ServerResponse, flow: Flow, done: WriteDone, watch?: CloseWatch): void {
  const head = flow.response;
  if (!head) return done(new Error('no response to write'));
  if (res.destroyed) {
    // The client left before the answer was ready (e.g. it half-closed after sending): 'close' has fired already and
    // would never fire again, so waiting for it would hang the exchange forever, its flow.end and upstream body with it.
    discard(flow.responseBody);
    return done(new Error('client closed the connection'));
  }
  try {
    res.writeHead(head.status, head.reason ?? '', toNodeRaw(head.headers));
  } catch (err) { // a field value node:http refuses (ERR_INVALID_CHAR): nothing was written
    discard(flow.responseBody);
    return done(err instanceof Error ? err : new Error(String(err)));
  }
  const body = flow.responseBody;
  if (body === null || body === undefined) return endWith(res, undefined, done, watch);
  if (body instanceof Uint8Array) {
    if (!noBody(flow)) {
      flow.bytesOut += body.byteLength;
      flow.capture?.onResponse(body);
    }
    return endWith(res, body, done, watch);
  }
  const stream = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
  pipeBody(stream, res, flow, done);
}

/**
 * stream.pipe with the error handling of stream.pipeline but without its per-call AbortController, whose abort() on
 * every finish built a DOMException per response (~15% of the proxy's CPU in a profile of 1 KiB responses).
 */
function pipeBody(stream: Readable, res: ServerResponse, flow: Flow, done: WriteDone): void {
  const settle = once((err?: Error): void => {
    if (err) {
      stream.destroy();
      res.destroy();
    }
    done(err);
  });
  stream.on('data', (chunk: Uint8Array) => {
    flow.bytesOut += chunk.byteLength;
    flow.capture?.onResponse(chunk);
  });
  stream.once('error', (err) => settle(err));
  res.once('finish', () => settle());
  res.once('close', () => settle(res.writableFinished ? undefined : new Error('client closed the connection')));
  stream.pipe(res);
}

/** Drops a response body that will not be written (a stream is destroyed, an async iterable returned). */
export function discard(body: Flow['responseBody']): void {
  if (body instanceof Readable) body.destroy();
  else if (body && !(body instanceof Uint8Array)) void body[Symbol.asyncIterator]().return?.();
}

function noBody(flow: Flow): boolean {
  const s = flow.response?.status ?? 0;
  return flow.request.method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200);
}

function endWith(res: ServerResponse, chunk: Uint8Array | undefined, done: WriteDone, watch: CloseWatch | undefined): void {
  const settle = once(done);
  const onClose = (): void => settle(res.writableFinished ? undefined : new Error('client closed the connection'));
  // res.on, not res.once: a response closes once, and EventEmitter.once wraps each listener in another closure.
  res.on('error', settle);
  if (watch) watch.onClose(onClose);
  else res.on('close', onClose);
  res.end(chunk);
}
