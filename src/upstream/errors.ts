import { ProxyError, type ProxyErrorCode } from '../core/errors.js';
import { TargetForbiddenError } from './lookup.js';

/**
 * undici, net, dns and tls failures → the one ProxyError vocabulary. Errors arrive wrapped (undici's
 * SecureProxyConnectionError, fetch's TypeError, happy-eyeballs AggregateError), so the whole cause chain is searched
 * and the first recognised code wins.
 */
type Detail = NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number; host?: string };
type Rule = (e: Detail) => [ProxyErrorCode, string];

const where = (e: Detail): string => (e.address ? ` ${e.address}${e.port ? `:${e.port}` : ''}` : '');
const dns = (why: string): Rule => (e) => ['DNS_FAILED', `DNS lookup of ${e.hostname ?? 'the host'} failed${why}`];
const refused = (why: string): Rule => (e) => ['CONNECT_REFUSED', `connection to${where(e) || ' the upstream'} ${why}`];
const reset = (why: string): Rule => () => ['UPSTREAM_RESET', why];
const tls = (why: string): Rule => (e) => ['UPSTREAM_TLS', `the origin's certificate was rejected: ${why}${e.host ? ` (${e.host})` : ''}`];

const RULES: Readonly<Record<string, Rule>> = {
  ENOTFOUND: dns(''),
  EAI_NONAME: dns(''),
  EAI_NODATA: dns(' (no addresses)'),
  EAI_AGAIN: dns(' (temporary failure; the resolver did not answer)'),
  EAI_FAIL: dns(' (resolver failure)'),
  ECONNREFUSED: refused('was refused'),
  EHOSTUNREACH: refused('failed: host unreachable'),
  ENETUNREACH: refused('failed: network unreachable'),
  EADDRNOTAVAIL: refused('failed: address not available'),
  UND_ERR_CONNECT_TIMEOUT: (e) => ['CONNECT_TIMEOUT', `connecting to the upstream timed out${where(e)}`],
  ETIMEDOUT: (e) => ['CONNECT_TIMEOUT', `connecting to the upstream timed out${where(e)}`],
  UND_ERR_HEADERS_TIMEOUT: () => ['HEADERS_TIMEOUT', 'the upstream did not send response headers in time'],
  UND_ERR_BODY_TIMEOUT: () => ['BODY_TIMEOUT', 'the upstream stopped sending the response body'],
  ECONNRESET: reset('the upstream reset the connection'),
  EPIPE: reset('the upstream closed the connection while the request was being sent'),
  UND_ERR_SOCKET: reset('the upstream closed the connection'),
  UND_ERR_CLOSED: reset('the upstream connection pool was closed'),
  UND_ERR_DESTROYED: reset('the upstream connection pool was closed'),
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: reset('the upstream body did not match its Content-Length'),
  UND_ERR_HEADERS_OVERFLOW: reset('the upstream response headers were too large'),
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: () => ['BAD_REQUEST', 'the request body did not match its Content-Length'],
  UND_ERR_INVALID_ARG: (e) => ['BAD_REQUEST', `the request cannot be forwarded: ${e.message}`],
  UND_ERR_NOT_SUPPORTED: (e) => ['BAD_REQUEST', `the request cannot be forwarded: ${e.message}`],
  UND_ERR_ABORTED: () => ['CLIENT_ABORTED', 'the request was aborted'],
  ABORT_ERR: () => ['CLIENT_ABORTED', 'the request was aborted'],
  ERR_PORTICO_TARGET_FORBIDDEN: (e) => ['FORBIDDEN_TARGET', e.message],
  CERT_HAS_EXPIRED: tls('it has expired'),
  CERT_NOT_YET_VALID: tls('it is not yet valid'),
  CERT_REVOKED: tls('it has been revoked'),
  DEPTH_ZERO_SELF_SIGNED_CERT: tls('it is self-signed and not trusted'),
  SELF_SIGNED_CERT_IN_CHAIN: tls('its chain ends in an untrusted self-signed root'),
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: tls('its issuer is not trusted'),
  UNABLE_TO_GET_ISSUER_CERT: tls('its issuer is not trusted'),
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: tls('its issuer is not trusted'),
  CERT_SIGNATURE_FAILURE: tls('its signature is invalid'),
  ERR_TLS_CERT_ALTNAME_INVALID: tls('it does not name this host'),
  ERR_TLS_HANDSHAKE_TIMEOUT: () => ['UPSTREAM_TLS', 'the TLS handshake with the origin timed out'],
};

export function mapUpstreamError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  for (const e of causeChain(err)) {
    if (e instanceof ProxyError) return e;
    if (e instanceof TargetForbiddenError) return new ProxyError('FORBIDDEN_TARGET', e.message, { cause: err });
    const code = typeof e.code === 'string' ? e.code : e.name === 'AbortError' ? 'ABORT_ERR' : '';
    const rule = RULES[code];
    if (rule) {
      const [mapped, message] = rule(e);
      return new ProxyError(mapped, message, { cause: err });
    }
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
      return new ProxyError('UPSTREAM_TLS', `the TLS handshake with the origin failed (${code})`, { cause: err });
    }
    if (code.startsWith('HPE_')) {
      return new ProxyError('UPSTREAM_RESET', `the upstream sent an invalid HTTP response (${code})`, { cause: err });
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ProxyError('INTERNAL', message, { cause: err });
}

/** err, its causes and the members of AggregateErrors, breadth first, bounded against cycles. */
export function causeChain(err: unknown): Detail[] {
  const out: Detail[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (!(e instanceof Error) || out.includes(e as Detail)) continue;
    out.push(e as Detail);
    if (e instanceof AggregateError) queue.push(...(e.errors as unknown[]));
    if (e.cause !== undefined) queue.push(e.cause);
  }
  return out;
}
