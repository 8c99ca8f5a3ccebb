import { ProxyError } from '../core/errors.js';

/** No free pooled connection in time: the backend is busy, not unreachable (CONNECT_TIMEOUT, 504). */
export class QueueTimeoutError extends ProxyError {
  constructor(backend: string, ms: number) {
    super('CONNECT_TIMEOUT', `no free connection to backend ${backend} within ${ms} ms (pool queue)`);
  }
}
