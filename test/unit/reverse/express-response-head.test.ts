import { describe, expect, it } from 'vitest';
import type { RawHeaders } from '../../../src/core/flow.js';
import { responseHead, utcDate, type ResponseHeadInput } from '../../../src/reverse/express/response-head.js';

const DATE = 'Fri, 27 Nov 2026 21:00:00 GMT';
const base: ResponseHeadInput = {
  status: 200, reason: 'OK', headers: [['Content-Type', 'text/plain']], noBody: false, bodyBytes: 5, http11: true,
  keepAlive: true, keepAliveTimeoutMs: 5_000, date: DATE,
};
const head = (over: Partial<ResponseHeadInput>): { head: string; framing: string; keepAlive: boolean } => {
  const r = responseHead({ ...base, ...over });
  if (r instanceof Error) throw r;
  return r;
};

describe('express response head', () => {
  it('bytes in hand: Content-Length, Date added, keep-alive with the Keep-Alive hint, as node:http writes it', () => {
    expect(head({})).toEqual({
      head: `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: ${DATE}\r\nContent-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`,
      framing: 'length', keepAlive: true,
    });
  });

  it('keeps the upstream Date and Content-Length, in their place; drops Connection and Transfer-Encoding fields', () => {
    const headers: RawHeaders = [['Date', 'x'], ['Connection', 'close'], ['Content-Length', '9'], ['Transfer-Encoding', 'chunked'], ['X-A', '1']];
    expect(head({ headers, bodyBytes: undefined, keepAlive: false }).head)
      .toBe('HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 9\r\nX-A: 1\r\nConnection: close\r\n\r\n');
  });

  it('a stream without a length: chunked to HTTP/1.1, close-delimited (and the connection ends) to HTTP/1.0', () => {
    expect(head({ bodyBytes: undefined })).toMatchObject({ framing: 'chunked', keepAlive: true });
    expect(head({ bodyBytes: undefined }).head).toContain('Transfer-Encoding: chunked\r\n');
    const old = head({ bodyBytes: undefined, http11: false });
    expect(old).toMatchObject({ framing: 'close', keepAlive: false });
    expect(old.head).toContain('Connection: close\r\n');
    expect(old.head).not.toContain('Transfer-Encoding');
  });

  it('HEAD, 204 and 304 have no body and no added length', () => {
    for (const over of [{ noBody: true }, { status: 204 }, { status: 304 }]) {
      const r = head({ ...over, bodyBytes: undefined });
      expect(r.framing).toBe('none');
      expect(r.head).not.toMatch(/Content-Length|Transfer-Encoding/);
    }
  });

  it('no body at all: Content-Length: 0 (node:http does the same for res.end())', () => {
    expect(head({ bodyBytes: 0 }).head).toContain('Content-Length: 0\r\n');
  });

  it('reason phrase: the upstream one, else the standard one', () => {
    expect(head({ status: 502, reason: undefined }).head.startsWith('HTTP/1.1 502 Bad Gateway\r\n')).toBe(true);
    expect(head({ status: 200, reason: 'Fine' }).head.startsWith('HTTP/1.1 200 Fine\r\n')).toBe(true);
  });

  it('refuses a field that would split the response, as node:http writeHead throws', () => {
    expect(responseHead({ ...base, headers: [['X-Evil', 'a\r\nSet-Cookie: x=1']] })).toBeInstanceOf(Error);
    expect(responseHead({ ...base, headers: [['Bad Name', 'v']] })).toBeInstanceOf(Error);
  });

  it('utcDate is the HTTP date of the current second', () => {
    expect(utcDate(Date.UTC(2026, 10, 27, 21, 0, 0, 999))).toBe(DATE);
    expect(utcDate(Date.UTC(2026, 10, 27, 21, 0, 1))).toBe('Fri, 27 Nov 2026 21:00:01 GMT');
  });
});
