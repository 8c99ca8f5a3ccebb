import type { Rejection } from './rejections.js';

/** Limits a request head must respect beyond what node:http's strict parser already enforces. */
export interface HeadLimits {
  /** Longest request target (URL as sent), in bytes; longer gets 414. */
  readonly maxUrlBytes: number;
  /** Most header fields; more gets 431 (node:http would silently drop those beyond maxHeadersCount). */
  readonly maxHeaderCount: number;
}

export interface RequestHeadView {
  readonly url: string;
  readonly httpVersion: string;
  /** Name, value, name, value … as received (node's rawHeaders). */
  readonly rawHeaders: readonly string[];
}

const bad = (reason: Rejection['reason']): Rejection => ({ status: 400, reason });

/**
 * The checks node:http leaves to the application, on a request head its strict parser accepted: URL length (414),
 * header count (431), more than one Host (RFC 9112 §3.2: 400), Transfer-Encoding on HTTP/1.0 (§6.1: the framing is
 * faulty), and — again, as a second line behind llhttp — both Content-Length and Transfer-Encoding, or more than one
 * Content-Length, or one that is not digits. One pass over the fields, no allocation unless something is wrong.
 */
export function screenRequestHead(head: RequestHeadView, limits: HeadLimits): Rejection | undefined {
  if (head.url.length > limits.maxUrlBytes) return { status: 414, reason: 'uri-too-long' };
  const raw = head.rawHeaders;
  if (raw.length / 2 > limits.maxHeaderCount) return { status: 431, reason: 'too-many-headers' };
  let hosts = 0;
  let lengths = 0;
  let te = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    else if (name.length === 14 && name.toLowerCase() === 'content-length') {
      lengths++;
      if (!/^\d{1,15}$/.test((raw[i + 1] ?? '').trim())) return bad('bad-content-length');
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') te = true;
  }
  if (hosts > 1) return bad('duplicate-host');
  if (te && lengths > 0) return bad('content-length-and-transfer-encoding');
  if (lengths > 1) return bad('bad-content-length');
  if (te && head.httpVersion === '1.0') return bad('bad-transfer-encoding');
  return undefined;
}

/**
 * What node:http's `clientError` means for the client: llhttp error codes (and their reason text where one code
 * covers several cases) → status and reason. `undefined`: nothing to answer (the peer reset the connection).
 */
export function classifyClientError(code: string | undefined, reasonText = ''): Rejection | undefined {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'header-too-large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'request-timeout' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      // llhttp reports CL-then-TE under the first code and TE-then-CL under the last: one reason for both orders.
      if (/content-length/i.test(reasonText) && /transfer-encoding/i.test(reasonText)) return bad('content-length-and-transfer-encoding');
      return bad(code === 'HPE_INVALID_TRANSFER_ENCODING' ? 'bad-transfer-encoding' : 'bad-content-length');
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return bad(/whitespace after header value/i.test(reasonText) ? 'obs-fold' : 'bad-header');
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_STRICT':
      return bad('bad-chunk');
    case 'HPE_INVALID_METHOD':
    case 'HPE_INVALID_URL':
    case 'HPE_INVALID_VERSION':
    case 'HPE_INVALID_CONSTANT':
      return bad('bad-request-line');
    default:
      return bad('malformed');
  }
}
