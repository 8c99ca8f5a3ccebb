import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Flow } from '../core/flow.js';
import { toNodeRaw } from '../core/headers.js';

/**
 * Writes flow.response to the client, streaming the body with backpressure. Resolves when the body is done and
 * rejects when it was cut short (the client then sees a truncated response — a closed connection without the final
 * chunk or with fewer bytes than Content-Length — never a corrupted one).
 */
export function writeResponse(res: ServerResponse, flow: Flow): Promise<void> {
  const head = flow.response;
  if (!head) return Promise.reject(new Error('no response to write'));
  if (res.destroyed) {
    // The client left before the answer was ready (e.g. it half-closed after sending): 'close' has fired already and
    // would never fire again, so waiting for it would hang the exchange forever, its flow.end and upstream body with it.
    discard(flow.responseBody);
    return Promise.reject(new Error('client closed the connection'));
  }
  res.writeHead(head.status, head.reason ?? '', toNodeRaw(head.headers));
  const body = flow.responseBody;
  if (body === null || body === undefined) {
    return endWith(res, undefined);
  }
  if (body instanceof Uint8Array) {
    if (!noBody(flow)) {
      flow.bytesOut += body.byteLength;
      flow.capture?.onResponse(body);
    }
    return endWith(res, body);
  }
  const stream = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
  return pipeBody(stream, res, flow);
}

/**
 * stream.pipe with the error handling of stream.pipeline but without its per-call AbortController, whose abort() on
 * every finish built a DOMException per response (~15% of the proxy's CPU in a profile of 1 KiB responses).
 */
function pipeBody(stream: Readable, res: ServerResponse, flow: Flow): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      if (err) {
        stream.destroy();
        res.destroy();
        reject(err);
      } else {
        resolve();
      }
    };
    stream.on('data', (chunk: Uint8Array) => {
      flow.bytesOut += chunk.byteLength;
      flow.capture?.onResponse(chunk);
    });
    stream.once('error', (err) => settle(err));
    res.once('finish', () => settle());
    res.once('close', () => settle(res.writableFinished ? undefined : new Error('client closed the connection')));
    stream.pipe(res);
  });
}

function discard(body: Flow['responseBody']): void {
  if (body instanceof Readable) body.destroy();
  else if (body && !(body instanceof Uint8Array)) void body[Symbol.asyncIterator]().return?.();
}

function noBody(flow: Flow): boolean {
  const s = flow.response?.status ?? 0;
  return flow.request.method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200);
}

function endWith(res: ServerResponse, chunk: Uint8Array | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // on, not once: a response closes once, and once() wraps each listener in another closure.
    res.on('error', reject);
    res.on('close', () => (res.writableFinished ? resolve() : reject(new Error('client closed the connection'))));
    res.end(chunk);
  });
}
