import { describe, expect, it } from 'vitest';
import { hostMatchesTunnel, parseAuthority, plainTarget, tunnelTarget } from '../../../src/forward/target.js';

describe('parseAuthority (CONNECT targets)', () => {
  it.each([
    ['example.com:443', { host: 'example.com', port: 443 }],
    ['EXAMPLE.com.:8443', { host: 'example.com', port: 8443 }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['127.0.0.1:1', { host: '127.0.0.1', port: 1 }],
  ])('%s', (input, expected) => expect(parseAuthority(input)).toEqual(expected));

  it.each(['example.com', ':443', 'example.com:0', 'example.com:65536', '[nothex]:443', '::1:443', 'a b:443', 'host:443/x', ''])(
    'rejects %j', (input) => expect(parseAuthority(input)).toBeUndefined());
});

describe('plainTarget', () => {
  it('proxies absolute-form http and ws URLs', () => {
    expect(plainTarget('http://a.test/x?y=1')).toMatchObject({ kind: 'proxy' });
    const ws = plainTarget('ws://a.test/socket');
    expect(ws.kind === 'proxy' && ws.url.protocol).toBe('http:');
  });
  it('routes origin-form to the proxy itself', () => {
    expect(plainTarget('/proxy.pac')).toEqual({ kind: 'local', path: '/proxy.pac' });
  });
  it.each(['https://a.test/', 'ftp://a.test/', 'http://user:pw@a.test/', 'not a url', '*'])('refuses %j', (t) => {
    expect(plainTarget(t).kind).toBe('invalid');
  });
});

describe('tunnelTarget', () => {
  it('completes origin-form against the CONNECT target', () => {
    const t = tunnelTarget('/a?b', { host: 'x.test', port: 8443 }, true);
    expect(t.kind === 'proxy' && t.url.href).toBe('https://x.test:8443/a?b');
    const v6 = tunnelTarget('/', { host: '::1', port: 443 }, true);
    expect(v6.kind === 'proxy' && v6.url.href).toBe('https://[::1]/');
  });
});

describe('hostMatchesTunnel', () => {
  const tunnel = { host: 'a.test', port: 443 };
  it.each([
    ['a.test', undefined, true],
    ['A.TEST:443', undefined, true],
    ['a.test.', undefined, true],
    ['b.test', undefined, false],
    ['b.test', 'b.test', true],
    ['a.test:444', undefined, false],
    [undefined, undefined, true],
    ['a.test@b.test', undefined, false],
  ] as const)('Host %j with SNI %j → %s', (host, sni, ok) => {
    expect(hostMatchesTunnel(host, tunnel, sni)).toBe(ok);
  });
});
