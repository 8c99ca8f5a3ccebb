import { describe, expect, it } from 'vitest';
import { toHar } from '../../../src/observe/har.js';
import { FlowRing } from '../../../src/observe/ring.js';
import { record } from './records.js';

describe('FlowRing', () => {
  it('keeps the newest records up to its capacity, newest last', () => {
    const ring = new FlowRing(3);
    for (let i = 1; i <= 5; i++) ring.push(record({ id: `f${i}` }));
    expect(ring.size).toBe(3);
    expect(ring.list().map((r) => r.id)).toEqual(['f3', 'f4', 'f5']);
    expect(ring.list(2).map((r) => r.id)).toEqual(['f4', 'f5']);
    expect(ring.list(0)).toEqual([]);
    expect(ring.list(99)).toHaveLength(3);
  });
  it('starts empty, clears, and refuses a useless capacity', () => {
    const ring = new FlowRing(2);
    expect(ring.list()).toEqual([]);
    ring.push(record());
    ring.clear();
    expect(ring.size).toBe(0);
    expect(() => new FlowRing(0)).toThrow(RangeError);
  });
});

describe('HAR 1.2', () => {
  it('has the required shape for every entry', () => {
    const har = toHar([
      record({ requestHeaders: [['host', 'example.test']], responseHeaders: [['content-type', 'text/plain'], ['location', '/b']] }),
      record({ id: 'f2', status: undefined, timings: {}, error: { code: 'DNS_FAILED', message: 'nx' } }),
    ], '1.2.3');
    expect(har.log).toMatchObject({ version: '1.2', creator: { name: 'portico', version: '1.2.3' }, pages: [] });
    const [a, b] = har.log.entries;
    expect(a).toMatchObject({
      startedDateTime: '2024-06-05T12:30:00.000Z', time: 20.25, serverIPAddress: 'example.test',
      request: { method: 'GET', httpVersion: 'HTTP/1.1', headers: [{ name: 'host', value: 'example.test' }], queryString: [{ name: 'q', value: '1' }], headersSize: -1 },
      response: { status: 200, content: { size: 1234, mimeType: 'text/plain' }, redirectURL: '/b' },
      timings: { send: 0, wait: 12.5, receive: 7.75 },
    });
    expect(b?.response.status).toBe(0);
    expect(b?.request.headers).toEqual([]);
    expect(b?._portico.error?.code).toBe('DNS_FAILED');
    for (const e of har.log.entries) {
      for (const t of [e.timings.send, e.timings.wait, e.timings.receive]) expect(t).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(e.startedDateTime))).toBe(false);
    }
  });
});
