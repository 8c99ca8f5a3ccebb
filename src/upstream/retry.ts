import { causeChain } from './errors.js';

/** Methods RFC 9110 §9.2.2 calls idempotent: repeating them has the same effect as sending them once. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export interface RetryInput {
  method: string;
  hasBody: boolean;
  /** Any byte of the response (status line included) has arrived. */
  responseStarted: boolean;
  /** Attempts already made (1 after the first failure). */
  attempts: number;
  err: unknown;
}

/**
 * The keep-alive race: the origin closes an idle pooled connection just as we write the next request on it, and the
 * request dies with a reset before any response byte. The request never reached the application, so an idempotent,
 * body-less request is safe to send once more on a fresh connection (Go's Transport and Caddy do the same).
 *
 * undici does not say whether the connection was reused. Its socket errors carry the socket's byte counts: a socket
 * that had read nothing before failing was fresh, and a reset there is a real failure, not the race. When no counts
 * are attached (a bare ECONNRESET) we cannot tell, and allow the single retry.
 */
export function shouldRetryReset(input: RetryInput): boolean {
  if (input.attempts >= 2 || input.responseStarted || input.hasBody) return false;
  if (!IDEMPOTENT.has(input.method.toUpperCase())) return false;
  for (const e of causeChain(input.err)) {
    if (typeof e.code !== 'string' || !RESET_CODES.has(e.code)) continue;
    const socket = (e as { socket?: { bytesRead?: number } }).socket;
    return socket?.bytesRead === undefined || socket.bytesRead > 0;
  }
  return false;
}
