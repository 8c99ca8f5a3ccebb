/**
 * The failures of Portico's HTTP/1.1 client, coded like undici's (UND_ERR_*), so upstream/errors.ts maps them and
 * upstream/retry.ts reads them exactly as it does undici's: one vocabulary whichever client sent the request.
 */
export class H1Error extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'H1Error';
  }
}

/**
 * The connection closed or reset under an exchange. `socket.bytesRead` is what retry.ts asks: a connection that had
 * read nothing was fresh, so its reset is a real failure; one that had read earlier responses was reused (the
 * keep-alive race), and an idempotent request may be sent once more.
 */
export class H1SocketError extends H1Error {
  constructor(message: string, readonly socket: { bytesRead: number }, options?: { cause?: unknown }) {
    super('UND_ERR_SOCKET', message, options);
  }
}

export const headersTimeout = (ms: number): H1Error => new H1Error('UND_ERR_HEADERS_TIMEOUT', `no response headers within ${ms} ms`);
export const bodyTimeout = (ms: number): H1Error => new H1Error('UND_ERR_BODY_TIMEOUT', `no response body bytes for ${ms} ms`);
export const poolClosed = (): H1Error => new H1Error('UND_ERR_DESTROYED', 'the upstream connection pool was closed');
export const invalidRequest = (why: string): H1Error => new H1Error('UND_ERR_INVALID_ARG', why);
export const requestLengthMismatch = (): H1Error =>
  new H1Error('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'the request body did not match its Content-Length');
