import { describe, expect, it } from 'vitest';
import { requestHead } from '../../../src/upstream/h1/request-head.js';

const base = { method: 'GET', path: '/a?b=1', headers: ['host', 'example.test', 'Accept', '*/*'], hasBody: false, close: false };

describe('h1 request head', () => {
  it('writes the request line and the fields in order, case kept, with no body framing for a body-less GET', () => {
    const r = requestHead(base);
    expect(r).toEqual({ head: 'GET /a?b=1 HTTP/1.1\r\nhost: example.test\r\nAccept: */*\r\n\r\n', framing: { kind: 'none' } });
  });

  it('keeps Content-Length for a body and frames by it; adds chunked when a body has no length', () => {
    const withLength = requestHead({ ...base, method: 'PUT', headers: ['host', 'h', 'Content-Length', '5'], hasBody: true });
    expect(withLength).toMatchObject({ framing: { kind: 'length', bytes: 5 } });
    expect((withLength as { head: string }).head).toContain('Content-Length: 5\r\n');
    const chunked = requestHead({ ...base, method: 'POST', headers: ['host', 'h'], hasBody: true });
    expect(chunked).toMatchObject({ framing: { kind: 'chunked' } });
    expect((chunked as { head: string }).head).toContain('transfer-encoding: chunked\r\n');
  });

  it('drops a Content-Length on a body-less request, and says content-length: 0 for a body-less POST (nginx answers 411 otherwise)', () => {
    const get = requestHead({ ...base, headers: ['host', 'h', 'content-length', '0'] }) as { head: string };
    expect(get.head).not.toContain('content-length');
    const post = requestHead({ ...base, method: 'POST', headers: ['host', 'h', 'content-length', '0'] }) as { head: string };
    expect(post.head).toBe('POST /a?b=1 HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n');
  });

  it('asks for close when keep-alive is off', () => {
    expect((requestHead({ ...base, close: true }) as { head: string }).head).toMatch(/connection: close\r\n\r\n$/);
  });

  it.each([
    ['a CR LF in a value (a second request smuggled on a shared connection)', { headers: ['host', 'h', 'X-A', 'v\r\nGET /evil HTTP/1.1'] }],
    ['a bare LF in a value', { headers: ['host', 'h', 'X-A', 'v\nx'] }],
    ['a NUL in a value', { headers: ['host', 'h', 'X-A', 'v\0'] }],
    ['a space in a name', { headers: ['host', 'h', 'X A', 'v'] }],
    ['a colon in a name', { headers: ['host', 'h', 'X:A', 'v'] }],
    ['a space in the target', { path: '/a b' }],
    ['a CR LF in the target', { path: '/a\r\nX: y' }],
    ['an empty target', { path: '' }],
    ['a method that is not a token', { method: 'GE T' }],
    ['a Content-Length that is not a number', { hasBody: true, headers: ['host', 'h', 'content-length', '1,1'] }],
  ])('refuses %s, writing nothing', (_why, patch) => {
    const r = requestHead({ ...base, ...patch });
    expect(r).toBeInstanceOf(Error);
    expect((r as Error & { code: string }).code).toBe('UND_ERR_INVALID_ARG');
  });

  it('passes obs-text (bytes 0x80-0xff, as latin1) and tabs in values, which node and undici send too', () => {
    const r = requestHead({ ...base, headers: ['host', 'h', 'X-Name', 'caf\u00e9\tok'] }) as { head: string };
    expect(r.head).toContain('X-Name: caf\u00e9\tok\r\n');
  });
});
