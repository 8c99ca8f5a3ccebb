import { describe, expect, it } from 'vitest';
import type { RawHeaders } from '../../../src/core/flow.js';
import { trustedProxies, withForwarding } from '../../../src/reverse/client-headers.js';

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

  it('the trusted list takes addresses and CIDRs, v4-mapped peers included', () => {
    const trusted = trustedProxies(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);
    expect(['10.1.2.3', '::ffff:10.1.2.3', '192.0.2.1', '2001:db8::5'].map(trusted)).toEqual([true, true, true, true]);
    expect(['192.0.2.2', '127.0.0.1', 'fe80::1'].map(trusted)).toEqual([false, false, false]);
    expect(trustedProxies([])('10.0.0.1')).toBe(false);
    expect(() => trustedProxies(['nope'])).toThrow(/not an IP/);
  });
});
