import { describe, expect, it } from 'vitest';
import { RejectionCounter, rejectionResponse } from '../../../src/core/rejections.js';
import { classifyClientError, screenRequestHead } from '../../../src/core/request-screen.js';
import { Metrics } from '../../../src/observe/metrics.js';

const limits = { maxUrlBytes: 100, maxHeaderCount: 4 };
const head = (rawHeaders: string[], url = '/', httpVersion = '1.1') => ({ url, httpVersion, rawHeaders });

describe('screenRequestHead', () => {
  it.each([
    ['a plain GET', head(['Host', 'a']), undefined],
    ['a POST with one Content-Length', head(['Host', 'a', 'Content-Length', '5']), undefined],
    ['a chunked POST', head(['Host', 'a', 'Transfer-Encoding', 'chunked']), undefined],
    ['a URL over the limit', head(['Host', 'a'], `/${'x'.repeat(100)}`), { status: 414, reason: 'uri-too-long' }],
    ['too many header fields', head(['Host', 'a', 'A', '1', 'B', '2', 'C', '3', 'D', '4']), { status: 431, reason: 'too-many-headers' }],
    ['two Host fields', head(['Host', 'a', 'host', 'b']), { status: 400, reason: 'duplicate-host' }],
    ['Content-Length and Transfer-Encoding', head(['content-length', '3', 'Transfer-Encoding', 'chunked']),
      { status: 400, reason: 'content-length-and-transfer-encoding' }],
    ['two Content-Length fields', head(['Content-Length', '3', 'Content-Length', '3']), { status: 400, reason: 'bad-content-length' }],
    ['a signed Content-Length', head(['Content-Length', '+3']), { status: 400, reason: 'bad-content-length' }],
    ['a list Content-Length', head(['Content-Length', '3, 3']), { status: 400, reason: 'bad-content-length' }],
    ['Transfer-Encoding on HTTP/1.0', head(['Transfer-Encoding', 'chunked'], '/', '1.0'), { status: 400, reason: 'bad-transfer-encoding' }],
  ])('%s', (_name, h, expected) => {
    expect(screenRequestHead(h, limits)).toEqual(expected);
  });
});

describe('classifyClientError', () => {
  it.each([
    ['HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length", 400, 'content-length-and-transfer-encoding'],
    ['HPE_INVALID_TRANSFER_ENCODING', 'Request has invalid `Transfer-Encoding`', 400, 'bad-transfer-encoding'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length', 400, 'bad-content-length'],
    ['HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length', 400, 'bad-content-length'],
    ['HPE_INVALID_HEADER_TOKEN', 'Unexpected whitespace after header value', 400, 'obs-fold'],
    ['HPE_INVALID_HEADER_TOKEN', 'Invalid header value char', 400, 'bad-header'],
    ['HPE_INVALID_CHUNK_SIZE', 'Chunk size overflow', 400, 'bad-chunk'],
    ['HPE_INVALID_METHOD', 'Invalid method encountered', 400, 'bad-request-line'],
    ['HPE_HEADER_OVERFLOW', 'Header overflow', 431, 'header-too-large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 'Request timeout', 408, 'request-timeout'],
    ['SOMETHING_NEW', '', 400, 'malformed'],
    [undefined, '', 400, 'malformed'],
  ])('%s (%s) → %i %s', (code, text, status, reason) => {
    expect(classifyClientError(code, text)).toEqual({ status, reason });
  });

  it('a reset peer gets no answer', () => {
    expect(classifyClientError('ECONNRESET')).toBeUndefined();
  });
});

describe('rejection counting and the answer', () => {
  it('counts by reason and renders portico_rejected_total', () => {
    const c = new RejectionCounter();
    c.count('obs-fold');
    c.count('obs-fold');
    c.count('max-connections-per-client');
    const text = new Metrics({ rejections: () => c.snapshot() }).render();
    expect(text).toContain('# TYPE portico_rejected_total counter');
    expect(text).toContain('portico_rejected_total{reason="obs-fold"} 2');
    expect(text).toContain('portico_rejected_total{reason="max-connections-per-client"} 1');
  });

  it('the raw answer is a complete close-delimited response', () => {
    const text = rejectionResponse({ status: 431, reason: 'too-many-headers' });
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(text).toContain('Connection: close\r\n');
    const [headPart, body] = text.split('\r\n\r\n') as [string, string];
    expect(headPart).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
  });
});
