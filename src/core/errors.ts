/**
 * The one error funnel: every real failure on the data path is a ProxyError with a stable code.
 * The code decides the status, the page the client sees and the log field (STYLE habit 5).
 */
export type ProxyErrorCode =
  | 'BAD_REQUEST'
  | 'DNS_FAILED'
  | 'CONNECT_REFUSED'
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_RESET'
  | 'HEADERS_TIMEOUT'
  | 'BODY_TIMEOUT'
  | 'UPSTREAM_RESET'
  | 'UPSTREAM_TLS'
  | 'UPSTREAM_PROXY'
  | 'NO_HEALTHY_BACKEND'
  | 'FORBIDDEN_TARGET'
  | 'FORBIDDEN_PORT'
  | 'FORBIDDEN_CLIENT'
  | 'POLICY_BLOCKED'
  | 'HOST_MISMATCH'
  | 'LOOP_DETECTED'
  | 'PROXY_AUTH_REQUIRED'
  | 'CLIENT_ABORTED'
  | 'INTERNAL';

export type ProxyErrorStatus = 400 | 403 | 407 | 421 | 499 | 500 | 502 | 503 | 504 | 508;

interface ErrorSpec { readonly status: ProxyErrorStatus; readonly title: string }

const SPECS: Readonly<Record<ProxyErrorCode, ErrorSpec>> = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  DNS_FAILED: { status: 502, title: 'DNS lookup failed' },
  CONNECT_REFUSED: { status: 502, title: 'Connection refused' },
  CONNECT_TIMEOUT: { status: 504, title: 'Connection timed out' },
  CONNECT_RESET: { status: 502, title: 'Connection reset' },
  HEADERS_TIMEOUT: { status: 504, title: 'Upstream response timed out' },
  BODY_TIMEOUT: { status: 504, title: 'Upstream body timed out' },
  UPSTREAM_RESET: { status: 502, title: 'Upstream closed the connection' },
  UPSTREAM_TLS: { status: 502, title: 'Upstream TLS failure' },
  UPSTREAM_PROXY: { status: 502, title: 'Parent proxy failure' },
  NO_HEALTHY_BACKEND: { status: 503, title: 'No healthy backend' },
  FORBIDDEN_TARGET: { status: 403, title: 'Destination not allowed' },
  FORBIDDEN_PORT: { status: 403, title: 'Port not allowed' },
  FORBIDDEN_CLIENT: { status: 403, title: 'Client not allowed' },
  POLICY_BLOCKED: { status: 403, title: 'Blocked by policy' },
  HOST_MISMATCH: { status: 421, title: 'Host does not match the tunnel' },
  LOOP_DETECTED: { status: 508, title: 'Forwarding loop detected' },
  PROXY_AUTH_REQUIRED: { status: 407, title: 'Proxy authentication required' },
  CLIENT_ABORTED: { status: 499, title: 'Client closed the request' },
  INTERNAL: { status: 500, title: 'Internal proxy error' },
};

export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly status: ProxyErrorStatus;
  readonly title: string;

  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.code = code;
    this.status = SPECS[code].status;
    this.title = SPECS[code].title;
  }
}

export function isProxyError(err: unknown): err is ProxyError {
  return err instanceof ProxyError;
}

/** Anything thrown inside the data path ends up here: unknown errors become INTERNAL, never a crash. */
export function toProxyError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProxyError('INTERNAL', message, { cause: err });
}

export function errorTitle(code: ProxyErrorCode): string {
  return SPECS[code].title;
}
