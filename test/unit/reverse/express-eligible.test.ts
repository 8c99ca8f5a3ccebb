import { describe, expect, it } from 'vitest';
import { absoluteFormTarget } from '../../../src/forward/target.js';
import { expressEligible, originFormTarget, type ParsedHead } from '../../../src/reverse/express/eligible.js';

const limits = { maxUrlBytes: 64, maxHeaderCount: 4 };
const get: ParsedHead = { method: 'GET', url: '/a', versionMajor: 1, versionMinor: 1, rawHeaders: ['Host', 'x'], keepAlive: true, upgrade: false };

describe('which requests the express front door serves itself', () => {
  it('body-less HTTP/1.0 and 1.1 requests with an origin-form target', () => {
    expect(expressEligible(get, limits)).toBe(true);
    expect(expressEligible({ ...get, versionMinor: 0 }, limits)).toBe(true);
    expect(expressEligible({ ...get, method: 'DELETE', rawHeaders: ['Host', 'x', 'Content-Length', '0'] }, limits)).toBe(true);
  });

  it('hands over bodies, Expect, upgrades, CONNECT, other versions', () => {
    const no: ParsedHead[] = [
      { ...get, method: 'POST', rawHeaders: ['Host', 'x', 'content-length', '3'] },
      { ...get, rawHeaders: ['Host', 'x', 'Transfer-Encoding', 'chunked'] },
      { ...get, rawHeaders: ['Host', 'x', 'Expect', '100-continue'] },
      { ...get, upgrade: true, rawHeaders: ['Host', 'x', 'Upgrade', 'websocket', 'Connection', 'Upgrade'] },
      { ...get, method: 'CONNECT', url: 'x:443' },
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

describe('the targets each mode serves on the express path', () => {
  it('reverse: origin-form against Host, or the listener when there is none; anything else goes to node:http', () => {
    const target = originFormTarget('127.0.0.1:8081');
    expect(target(get)?.href).toBe('http://x/a');
    expect(target({ ...get, rawHeaders: [] })?.href).toBe('http://127.0.0.1:8081/a');
    expect(target({ ...get, url: 'http://x/a' })).toBeUndefined();
    expect(target({ ...get, method: 'OPTIONS', url: '*' })).toBeUndefined();
    expect(target({ ...get, rawHeaders: ['Host', 'bad host'] })).toBeUndefined();
  });

  it('forward: absolute-form http targets; local pages, the CA page, https and credentials go to node:http', () => {
    expect(absoluteFormTarget({ url: 'http://origin.test:8080/p?q=1' })?.href).toBe('http://origin.test:8080/p?q=1');
    expect(absoluteFormTarget({ url: 'ws://origin.test/s' })?.href).toBe('http://origin.test/s');
    for (const url of ['/proxy.pac', 'http://portico.ca/', 'https://origin.test/', 'http://u:p@origin.test/', 'nonsense']) {
      expect(absoluteFormTarget({ url }), url).toBeUndefined();
    }
  });
});
