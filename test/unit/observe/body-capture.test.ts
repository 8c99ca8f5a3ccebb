import { describe, expect, it } from 'vitest';
import { BodyCapture, capturedText } from '../../../src/core/body-capture.js';
import { toRecord } from '../../../src/core/flow.js';
import { recordOptions } from '../../../src/core/record-headers.js';
import { toHar } from '../../../src/observe/har.js';
import { makeFlow } from '../../helpers/make-flow.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('BodyCapture', () => {
  it('keeps at most limit bytes per side across chunks, as copies', () => {
    const c = new BodyCapture(5);
    const buf = Buffer.from('abc');
    c.onResponse(buf);
    buf.write('zzz');
    c.onResponse(enc('defgh'));
    c.onResponse(enc('ijk'));
    c.onRequest(enc('0123456789'));
    expect(Buffer.concat(c.response).toString()).toBe('abcde');
    expect(Buffer.concat(c.request).toString()).toBe('01234');
  });

  it.each([
    ['text/html; charset=utf-8', undefined, 'hello'],
    ['application/json', undefined, 'hello'],
    ['application/problem+json', undefined, 'hello'],
    ['image/png', undefined, undefined],
    ['application/octet-stream', undefined, undefined],
    ['text/plain', 'gzip', undefined],
    ['text/plain', 'identity', 'hello'],
  ])('text only: %s (encoding %s)', (type, encoding, want) => {
    const headers: Array<[string, string]> = [['Content-Type', type]];
    if (encoding) headers.push(['Content-Encoding', encoding]);
    expect(capturedText([enc('hello')], headers)).toBe(want);
  });
});

describe('bodies on records', () => {
  it('appear only when captured, and in HAR as postData / content.text', () => {
    const flow = makeFlow({ method: 'POST', url: 'http://example.test/api', headers: [['Content-Type', 'application/json']] });
    flow.capture = new BodyCapture(8);
    flow.capture.onRequest(enc('{"a":1234567}'));
    flow.bytesIn = 13; // the front door's counter: the whole body, of which 8 bytes were captured
    flow.response = { status: 200, headers: [['content-type', 'text/plain']] };
    flow.capture.onResponse(enc('response text'));
    const r = toRecord(flow, recordOptions({ headers: true, redactHeaders: [], bodies: 8 }));
    expect(r.requestBody).toBe('{"a":123');
    expect(r.responseBody).toBe('response');
    const [e] = toHar([r], 'x').log.entries;
    expect(e?.request.postData).toEqual({
      mimeType: 'application/json', text: '{"a":123',
      comment: 'request body truncated: only the first 8 of 13 bytes were captured (raise log.bodies / --log-bodies)',
    });
    expect(e?.response.content.text).toBe('response');
    expect(toRecord(makeFlow({ url: 'http://example.test/' })).responseBody).toBeUndefined();
  });
});
