import type { Dispatcher } from 'undici';
import { ProxyError } from '../core/errors.js';

/** No free pooled connection in time: the backend is busy, not unreachable (CONNECT_TIMEOUT, 504). */
export class QueueTimeoutError extends ProxyError {
  constructor(backend: string, ms: number) {
    super('CONNECT_TIMEOUT', `no free connection to backend ${backend} within ${ms} ms (pool queue)`);
  }
}

/** Stands in for the controller a request never got because it was still queued. */
const QUEUED: Dispatcher.DispatchController = {
  aborted: true, paused: false, reason: null, abort: () => undefined, pause: () => undefined, resume: () => undefined,
};

/**
 * An undici interceptor: a request still waiting for a free pooled connection after `ms` fails with CONNECT_TIMEOUT
 * (undici queues without a limit). If undici later hands it a connection, it is aborted before anything is written.
 */
export function queueTimeout(ms: number, backend: string): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    let queued = true;
    let dead: QueueTimeoutError | undefined;
    const timer = ms > 0 ? setTimeout(() => {
      if (!queued) return;
      dead = new QueueTimeoutError(backend, ms);
      handler.onResponseError?.(QUEUED, dead);
    }, ms) : undefined;
    return dispatch(opts, {
      onRequestStart(controller, context) {
        queued = false;
        clearTimeout(timer);
        if (dead !== undefined) controller.abort(dead);
        else handler.onRequestStart?.(controller, context);
      },
      onRequestUpgrade(controller, status, headers, socket) {
        if (dead === undefined) handler.onRequestUpgrade?.(controller, status, headers, socket);
      },
      onResponseStart(controller, status, headers, message) {
        if (dead === undefined) handler.onResponseStart?.(controller, status, headers, message);
      },
      onResponseData(controller, chunk) {
        if (dead === undefined) handler.onResponseData?.(controller, chunk);
      },
      onResponseEnd(controller, trailers) {
        if (dead === undefined) handler.onResponseEnd?.(controller, trailers);
      },
      onResponseError(controller, err) {
        clearTimeout(timer);
        if (dead === undefined) handler.onResponseError?.(controller, err);
      },
    });
  };
}
