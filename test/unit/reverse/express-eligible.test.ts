import { describe, expect, it } from 'vitest';
import { expressEligible, type ParsedHead } from '../../../src/reverse/express/eligible.js';

const limits = { maxUrlBytes: 64, maxHeaderCount: 4 };
const get: ParsedHead = { method: 'GET', url: '/a', versionMajor: 1, versionMinor: 1, rawHeaders: ['Host', 'x'], keepAlive: true, upgrade: false };

describe('which requests the express front door serves itself', () => {
  it('body-less HTTP/1.0 and 1.1 requests with an origin-form target', () => {
    expect(expressEligible(get, limits)).toBe(true);
    expect(expressEligible({ ...get, versionMinor: 0 }, limits)).toBe(true);
    expect(expressEligible({ ...get, method: 'DELETE', rawHeaders: ['Host', 'x', 'Content-Length', '0'] }, limits)).toBe(true);
  });

  it('hands over bodies, Expect, upgrades, CONNECT, absolute-form and asterisk targets, other versions', () => {
    const no: ParsedHead[] = [
      { ...get, method: 'POST', rawHeaders: ['Host', 'x', 'content-length', '3'] },
      { ...get, rawHeaders: ['Host', 'x', 'Transfer-Encoding', 'chunked'] },
      { ...get, rawHeaders: ['Host', 'x', 'Expect', '100-continue'] },
      { ...get, upgrade: true, rawHeaders: ['Host', 'x', 'Upgrade', 'websocket', 'Connection', 'Upgrade'] },
      { ...get, method: 'CONNECT', url: 'x:443' },
      { ...get, url: 'http://x/a' },
      { ...get, method: 'OPTIONS', url: '*' },
      { ...get, versionMajor: 2, versionMinor: 0 },
    ];
    for (const head of no) expect(expressEligible(head, limits), JSON.stringify(head)).toBe(false);
  });

  it('hands over what the head screen would refuse (node:http answers 414, 431, 400 there)', () => {
    expect(expressEligible({ ...get, url: `/${'a'.repeat(64)}` }, limits)).toBe(false);
    expect(expressEligible({ ...get, rawHeaders: ['A', '1', 'B', '2', 'C', '3', 'D', '4', 'E', '5'] }, limits)).toBe(false);
    expect(expressEligible({ ...get, rawHeaders: ['Host', 'x', 'Host', 'y'] }, limits)).toBe(false);
  });
});
