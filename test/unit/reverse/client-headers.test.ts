import { describe, expect, it } from 'vitest';
import type { RawHeaders } from '../../../src/core/flow.js';
import { clientAddress, noteRealIp, trustedProxies, withForwarding } from '../../../src/reverse/client-headers.js';

const hop = { ip: '203.0.113.9', proto: 'http' as const, host: 'app.example' };
const incoming: RawHeaders = [
  ['Accept', '*/*'], ['X-Forwarded-For', '10.9.9.9'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'public.example'],
  ['Forwarded', 'for=10.9.9.9;proto=https'],
];

describe('X-Forwarded-* and Forwarded', () => {
  it('from an untrusted peer: every incoming forwarding field is replaced (no spoofing)', () => {
    expect(withForwarding(incoming, hop, false)).toEqual([
      ['Accept', '*/*'], ['X-Forwarded-For', '203.0.113.9'], ['X-Forwarded-Proto', 'http'], ['X-Forwarded-Host', 'app.example'],
      ['Forwarded', 'for=203.0.113.9;proto=http;host=app.example'],
    ]);
  });

  it('from a trusted proxy: the chain is kept and our hop appended; its proto and host are kept', () => {
    expect(withForwarding(incoming, hop, true)).toEqual([
      ['Accept', '*/*'], ['X-Forwarded-For', '10.9.9.9, 203.0.113.9'], ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'public.example'], ['Forwarded', 'for=10.9.9.9;proto=https, for=203.0.113.9;proto=http;host=app.example'],
    ]);
  });

  it('quotes IPv6 nodes and hosts with a port (RFC 7239 §6)', () => {
    const out = withForwarding([], { ip: '2001:db8::1', proto: 'https', host: 'app.example:8443' }, false);
    expect(out.find(([n]) => n === 'Forwarded')?.[1]).toBe('for="[2001:db8::1]";proto=https;host="app.example:8443"');
  });

  it('escapes quotes and backslashes in a quoted host; an IPv4-mapped peer is an IPv6 node', () => {
    const out = withForwarding([], { ip: '::ffff:192.0.2.7', proto: 'http', host: 'a"b\\c:80' }, false);
    expect(out.find(([n]) => n === 'Forwarded')?.[1]).toBe('for="[::ffff:192.0.2.7]";proto=http;host="a\\"b\\\\c:80"');
  });

  it('reads forwarding fields in any case and on several lines, keeping the other fields in order', () => {
    const lines: RawHeaders = [
      ['x-forwarded-for', ' 10.1.1.1 '], ['Accept', '*/*'], ['X-FORWARDED-FOR', '10.2.2.2, 10.3.3.3'], ['x-forwarded-proto', 'https'],
      ['X-Forwarded-Proto', 'http'], ['FORWARDED', 'for=10.1.1.1'], ['X-Forwarded-Hosts', 'kept'], ['x-forwarded-host', 'first.example'],
      ['X-Forwarded-Host', 'second.example'], ['Forwarder', 'kept too'],
    ];
    expect(withForwarding(lines, hop, true)).toEqual([
      ['Accept', '*/*'], ['X-Forwarded-Hosts', 'kept'], ['Forwarder', 'kept too'],
      ['X-Forwarded-For', '10.1.1.1, 10.2.2.2, 10.3.3.3, 203.0.113.9'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'first.example'],
      ['Forwarded', 'for=10.1.1.1, for=203.0.113.9;proto=http;host=app.example'],
    ]);
    expect(withForwarding(lines, { ...hop, host: undefined }, false)).toEqual([
      ['Accept', '*/*'], ['X-Forwarded-Hosts', 'kept'], ['Forwarder', 'kept too'],
      ['X-Forwarded-For', '203.0.113.9'], ['X-Forwarded-Proto', 'http'], ['Forwarded', 'for=203.0.113.9;proto=http'],
    ]);
  });

  it('the trusted list takes addresses and CIDRs, v4-mapped peers included', () => {
    const trusted = trustedProxies(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);
    expect(['10.1.2.3', '::ffff:10.1.2.3', '192.0.2.1', '2001:db8::5'].map(trusted)).toEqual([true, true, true, true]);
    expect(['192.0.2.2', '127.0.0.1', 'fe80::1'].map(trusted)).toEqual([false, false, false]);
    expect(trustedProxies([])('10.0.0.1')).toBe(false);
    expect(() => trustedProxies(['nope'])).toThrow(/not an IP/);
  });
});

describe('clientAddress: the client behind trusted proxies (real_ip_recursive)', () => {
  const trusted = trustedProxies(['10.0.0.0/8', '2001:db8:f::/48']);
  it.each([
    ['an untrusted peer is the client, whatever it claims', '203.0.113.9', ['198.51.100.1'], '203.0.113.9'],
    ['a trusted peer without X-Forwarded-For is the client', '10.0.0.1', [], '10.0.0.1'],
    ['the rightmost untrusted hop', '10.0.0.1', ['198.51.100.1, 203.0.113.7, 10.2.2.2'], '203.0.113.7'],
    ['a forged left part is never reached', '10.0.0.1', ['1.1.1.1, 203.0.113.7'], '203.0.113.7'],
    ['several fields read as one list, in order', '10.0.0.1', ['198.51.100.1', '203.0.113.7, 10.2.2.2'], '203.0.113.7'],
    ['every hop trusted: the leftmost', '10.0.0.1', ['10.3.3.3, 10.2.2.2'], '10.3.3.3'],
    ['garbage ends the walk at the hop to its right', '10.0.0.1', ['evil, 10.2.2.2'], '10.2.2.2'],
    ['an empty element is garbage too', '10.0.0.1', [''], '10.0.0.1'],
    ['ports and brackets are unwrapped', '10.0.0.1', ['203.0.113.7:4711'], '203.0.113.7'],
    ['bracketed IPv6 with a port', '10.0.0.1', ['[2001:db8::1]:443'], '2001:db8::1'],
    ['bare IPv6 hops, trusted ones skipped', '2001:db8:f::2', ['2001:db8::1, 2001:db8:f::3'], '2001:db8::1'],
    ['an IPv4-mapped trusted peer', '::ffff:10.0.0.1', ['203.0.113.7'], '203.0.113.7'],
  ])('%s', (_why, peer, xff, want) => {
    expect(clientAddress(peer, xff, trusted)).toBe(want);
  });

  it('noteRealIp notes only a client other than a trusted peer, and says whether the peer is trusted', () => {
    const flow = (ip: string, headers: RawHeaders) => ({ client: { ip, port: 1 }, request: { headers } as never, notes: {} as { realIp?: string } });
    const viaProxy = flow('10.0.0.1', [['x-forwarded-for', '203.0.113.7']]);
    expect(noteRealIp(viaProxy, trusted)).toBe(true);
    expect(viaProxy.notes.realIp).toBe('203.0.113.7');
    const forged = flow('203.0.113.9', [['X-Forwarded-For', '198.51.100.1']]);
    expect(noteRealIp(forged, trusted)).toBe(false);
    expect(forged.notes.realIp).toBeUndefined();
    const bare = flow('10.0.0.1', []);
    expect(noteRealIp(bare, trusted)).toBe(true);
    expect(bare.notes.realIp).toBeUndefined();
  });
});
