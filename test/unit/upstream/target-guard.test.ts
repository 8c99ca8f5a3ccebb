import { describe, expect, it } from 'vitest';
import { canonicalHost, createTargetGuard, embeddedIpv4 } from '../../../src/upstream/target-guard.js';

const strict = createTargetGuard({ allow: [], selfAddresses: [] });

describe('canonicalHost', () => {
  it.each([
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['Example.COM.', 'example.com'],
    ['[::FFFF:127.0.0.1]', '::ffff:7f00:1'],
    ['::1', '::1'],
    ['bücher.example', 'xn--bcher-kva.example'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalHost(input)).toBe(expected);
  });

  it.each(['', 'a/b', 'user@host', 'host:80', '1.2.3.256', 'a b', '[::1', 'fe80::1%eth0'])('rejects %j', (input) => {
    expect(canonicalHost(input)).toBeUndefined();
  });
});

describe('embeddedIpv4', () => {
  it.each([
    ['::ffff:7f00:1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::7f00:1', '127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
    ['2002:7f00:1::', '127.0.0.1'],
    ['2002:a9fe:a9fe:1::5', '169.254.169.254'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', '127.0.0.1'],
    ['2001:db8::1', undefined],
    ['::ffff:1:0:1', undefined],
  ])('%s → %s', (input, expected) => {
    expect(embeddedIpv4(input)).toBe(expected);
  });
});

describe('target guard defaults', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['127.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::1', 'loopback'],
    ['[2002:7f00:1::]', 'loopback'],
    ['[2001:0:4136:e378:8000:63bf:80ff:fffe]', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[::127.0.0.1]', 'loopback'],
    ['[64:ff9b::127.0.0.1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['[::]', 'unspecified'],
    ['169.254.169.254', 'link-local'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['[fd00:ec2::254]', 'metadata'],
    ['localhost', 'loopback name'],
    ['LOCALHOST.', 'loopback name'],
    ['api.localhost', 'loopback name'],
    ['a/b@c', 'not a valid host'],
  ])('refuses %s (%s)', (host, why) => {
    const result = strict.checkHost(host, 80);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(why);
  });

  it.each(['example.com', '10.0.0.1', '172.16.5.4', '192.168.1.1', '8.8.8.8', '[2001:db8::1]', '[::ffff:8.8.8.8]', '[fd12::1]'])(
    'allows %s (private ranges included, by design)', (host) => {
      expect(strict.checkHost(host, 443)).toEqual({ ok: true });
    });

  it('checks resolved addresses in any spelling', () => {
    expect(strict.checkAddress('::ffff:127.0.0.1', 80).ok).toBe(false);
    expect(strict.checkAddress('169.254.1.1', 80).ok).toBe(false);
    expect(strict.checkAddress('93.184.216.34', 80).ok).toBe(true);
    expect(strict.checkAddress('not-an-ip', 80).ok).toBe(false);
  });
});

describe('target guard allow list', () => {
  const open = createTargetGuard({ allow: ['127.0.0.0/8', 'intranet.test', '*.corp.test'], selfAddresses: [] });

  it.each(['127.0.0.1', '0x7f.1', '2130706433', '[::ffff:127.0.0.1]'])('lets %s through with 127.0.0.0/8', (host) => {
    expect(open.checkHost(host, 80)).toEqual({ ok: true });
  });

  it('still refuses what the list does not name', () => {
    expect(open.checkHost('[::1]', 80).ok).toBe(false);
    expect(open.checkHost('169.254.169.254', 80).ok).toBe(false);
  });

  it('allow-listed names may resolve anywhere; others are judged by address', () => {
    // With loopback allowed, localhost is left to the lookup, which keeps only its allowed addresses.
    expect(open.checkHost('localhost', 80).ok).toBe(true);
    expect(open.checkResolved('intranet.test', '::1', 80)).toEqual({ ok: true });
    expect(open.checkResolved('db.corp.test', '169.254.0.9', 80)).toEqual({ ok: true });
    expect(open.checkResolved('example.com', '::1', 80).ok).toBe(false);
    expect(open.checkResolved('example.com', '127.0.0.1', 80)).toEqual({ ok: true });
  });

  it('accepts single IPs and bracketed IPv6 CIDRs, and refuses garbage', () => {
    const g = createTargetGuard({ allow: ['::1', '[fe80::]/10', '169.254.169.254'], selfAddresses: [] });
    expect(g.checkHost('[::1]', 1).ok).toBe(true);
    expect(g.checkHost('[fe80::2]', 1).ok).toBe(true);
    expect(g.checkHost('169.254.169.254', 1).ok).toBe(true);
    expect(() => createTargetGuard({ allow: ['10.0.0.0/33'], selfAddresses: [] })).toThrow(/invalid CIDR/);
    expect(() => createTargetGuard({ allow: ['a b'], selfAddresses: [] })).toThrow(/neither a CIDR nor a host/);
  });
});

describe('target guard self address', () => {
  it('refuses the proxy itself even when its range is allowed, reading the list late', () => {
    const self: Array<{ host: string; port: number }> = [{ host: '127.0.0.1', port: 0 }];
    const g = createTargetGuard({ allow: ['127.0.0.0/8'], selfAddresses: self });
    expect(g.checkHost('127.0.0.1', 8080).ok).toBe(true);
    self.push({ host: '127.0.0.1', port: 8080 }); // the listener learns its port after binding
    const refused = g.checkHost('2130706433', 8080);
    expect(refused).toEqual({ ok: false, reason: "127.0.0.1:8080 is this proxy's own address" });
    // The same host as asked before the push: verdicts are memoised, and the memo must not outlive the list.
    expect(g.checkHost('127.0.0.1', 8080).ok).toBe(false);
    expect(g.checkHost('127.0.0.1', 8081).ok).toBe(true);
    expect(g.checkResolved('allowed.test', '127.0.0.1', 8080).ok).toBe(false);
  });

  it('answers the same host the same way every time (memoised), and many hosts stay bounded', () => {
    const g = createTargetGuard({ allow: [], selfAddresses: [] });
    for (let i = 0; i < 5000; i++) expect(g.checkHost(`h${i}.example`, 80).ok).toBe(true);
    expect(g.checkHost('127.0.0.1', 80)).toEqual({ ok: false, reason: '127.0.0.1 is a loopback address' });
    expect(g.checkHost('127.0.0.1', 80)).toEqual({ ok: false, reason: '127.0.0.1 is a loopback address' });
    expect(g.checkHost('example.com', 80)).toEqual({ ok: true });
  });

  it('a wildcard listener is every local address at that port', () => {
    const g = createTargetGuard({ allow: ['0.0.0.0/0', '::/0'], selfAddresses: [{ host: '0.0.0.0', port: 3128 }] });
    expect(g.checkHost('127.0.0.1', 3128).ok).toBe(false);
    expect(g.checkHost('[::1]', 3128).ok).toBe(false);
    expect(g.checkHost('127.0.0.1', 3129).ok).toBe(true);
    expect(g.checkAddress('10.1.2.3', 0).ok).toBe(true);
  });
});
