import { describe, expect, it } from 'vitest';
import { errors as undiciErrors } from 'undici';
import { ProxyError } from '../../../src/core/errors.js';
import { mapUpstreamError } from '../../../src/upstream/errors.js';
import { TargetForbiddenError } from '../../../src/upstream/lookup.js';

const sys = (code: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(`${code} happened`), { code, ...extra });

describe('mapUpstreamError', () => {
  it.each<[string, unknown, string, string | RegExp]>([
    ['ENOTFOUND', sys('ENOTFOUND', { hostname: 'example.invalid' }), 'DNS_FAILED', 'DNS lookup of example.invalid failed'],
    ['EAI_AGAIN', sys('EAI_AGAIN', { hostname: 'slow.example' }), 'DNS_FAILED', /slow\.example failed \(temporary/],
    ['ECONNREFUSED', sys('ECONNREFUSED', { address: '127.0.0.1', port: 9 }), 'CONNECT_REFUSED', 'connection to 127.0.0.1:9 was refused'],
    ['EHOSTUNREACH', sys('EHOSTUNREACH'), 'CONNECT_REFUSED', /unreachable/],
    ['undici connect timeout', new undiciErrors.ConnectTimeoutError(), 'CONNECT_TIMEOUT', /timed out/],
    ['ETIMEDOUT', sys('ETIMEDOUT'), 'CONNECT_TIMEOUT', /timed out/],
    ['headers timeout', new undiciErrors.HeadersTimeoutError(), 'HEADERS_TIMEOUT', /response headers/],
    ['body timeout', new undiciErrors.BodyTimeoutError(), 'BODY_TIMEOUT', /body/],
    ['ECONNRESET', sys('ECONNRESET'), 'UPSTREAM_RESET', /reset/],
    ['EPIPE', sys('EPIPE'), 'UPSTREAM_RESET', /closed/],
    ['undici socket', new undiciErrors.SocketError('other side closed'), 'UPSTREAM_RESET', /closed/],
    ['expired', sys('CERT_HAS_EXPIRED'), 'UPSTREAM_TLS', /has expired/],
    ['self-signed', sys('DEPTH_ZERO_SELF_SIGNED_CERT'), 'UPSTREAM_TLS', /self-signed/],
    ['unknown issuer', sys('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'UPSTREAM_TLS', /issuer is not trusted/],
    ['chain', sys('SELF_SIGNED_CERT_IN_CHAIN'), 'UPSTREAM_TLS', /self-signed root/],
    ['altname', sys('ERR_TLS_CERT_ALTNAME_INVALID', { host: 'a.example' }), 'UPSTREAM_TLS', /does not name this host \(a\.example\)/],
    ['ssl alert', sys('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), 'UPSTREAM_TLS', /ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION/],
    ['forbidden', new TargetForbiddenError('evil.example', '::1 is a loopback address'), 'FORBIDDEN_TARGET', 'evil.example: ::1 is a loopback address'],
    ['parser', sys('HPE_INVALID_CONSTANT'), 'UPSTREAM_RESET', /invalid HTTP response/],
    ['abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'CLIENT_ABORTED', /aborted/],
    ['length mismatch', new undiciErrors.RequestContentLengthMismatchError(), 'BAD_REQUEST', /Content-Length/],
    ['plain error', new Error('boom'), 'INTERNAL', 'boom'],
    ['not an error', 'weird', 'INTERNAL', 'weird'],
  ])('%s', (_name, err, code, message) => {
    const mapped = mapUpstreamError(err);
    expect(mapped).toBeInstanceOf(ProxyError);
    expect(mapped.code).toBe(code);
    if (typeof message === 'string') expect(mapped.message).toBe(message);
    else expect(mapped.message).toMatch(message);
  });

  it('walks cause chains and aggregate errors', () => {
    const wrapped = new TypeError('fetch failed', { cause: new Error('outer', { cause: sys('ECONNREFUSED') }) });
    expect(mapUpstreamError(wrapped).code).toBe('CONNECT_REFUSED');
    const both = new AggregateError([new Error('x'), sys('ECONNREFUSED', { address: '::1', port: 1 })], 'all failed');
    expect(mapUpstreamError(both).code).toBe('CONNECT_REFUSED');
    const tls = new undiciErrors.SecureProxyConnectionError(sys('CERT_HAS_EXPIRED'));
    expect(mapUpstreamError(tls).code).toBe('UPSTREAM_TLS');
  });

  it('returns ProxyErrors unchanged and survives cause cycles', () => {
    const p = new ProxyError('FORBIDDEN_PORT', 'no');
    expect(mapUpstreamError(p)).toBe(p);
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = a;
    expect(mapUpstreamError(a).code).toBe('INTERNAL');
  });
});
