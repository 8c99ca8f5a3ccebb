import { describe, expect, it } from 'vitest';
import { hostFileStem, ipVersion, isIp, isValidDnsName, normalizeHost } from '../../../src/tls/host.js';

describe('normalizeHost', () => {
  it.each([
    ['Example.COM', 'example.com', 'dns'],
    ['example.com.', 'example.com', 'dns'],
    ['  api.example.com  ', 'api.example.com', 'dns'],
    ['_srv.example.com', '_srv.example.com', 'dns'],
    ['*.example.com', '*.example.com', 'dns'],
    ['localhost', 'localhost', 'dns'],
    ['127.0.0.1', '127.0.0.1', 'ipv4'],
    ['::1', '::1', 'ipv6'],
    ['[::1]', '::1', 'ipv6'],
    ['[0:0:0:0:0:0:0:1]', '::1', 'ipv6'],
    ['2001:DB8::0:1', '2001:db8::1', 'ipv6'],
    ['::ffff:1.2.3.4', '::ffff:102:304', 'ipv6'],
  ])('%j → %j (%s)', (input, name, kind) => {
    expect(normalizeHost(input)).toEqual({ name, kind });
  });

  it.each([
    '', '.', 'a..b', '.example.com', 'exa mple.com', 'example.com/x', 'example.com:443', 'ex\u00e4mple.com',
    'a'.repeat(64) + '.com', `${'a.'.repeat(127)}com`, 'fe80::1%eth0', '[::1', 'evil\r\nhost', '../etc/passwd',
  ])('rejects %j', (input) => {
    expect(() => normalizeHost(input)).toThrow(/invalid host name/);
  });
});

describe('ipVersion / isIp / isValidDnsName', () => {
  it.each([
    ['1.2.3.4', 4], ['::1', 6], ['[::1]', 6], ['example.com', 0], ['1.2.3', 0], ['fe80::1%lo', 0],
  ] as const)('%s → %d', (h, v) => {
    expect(ipVersion(h)).toBe(v);
    expect(isIp(h)).toBe(v !== 0);
  });

  it('limits labels to 63 and names to 253 characters', () => {
    expect(isValidDnsName('a'.repeat(63))).toBe(true);
    expect(isValidDnsName('a'.repeat(64))).toBe(false);
    expect(isValidDnsName(Array(63).fill('abc').join('.'))).toBe(true); // 251 characters
    expect(isValidDnsName(`${'abc.'.repeat(63)}ab`)).toBe(false);
  });
});

describe('hostFileStem', () => {
  it('keeps plain names and escapes characters that are unsafe in file names', () => {
    expect(hostFileStem('example.com')).toBe('example.com');
    expect(hostFileStem('::1')).toBe('_3a_3a1');
    expect(hostFileStem('*.example.com')).toBe('_2a.example.com');
    expect(hostFileStem('_srv.example.com')).toBe('_5fsrv.example.com');
  });

  it('is one-to-one for names that differ only in escaped characters', () => {
    // `_` is escaped too, so a literal "_3a" in a name can never collide with an escaped ":".
    expect(hostFileStem('a_3a')).toBe('a_5f3a');
    expect(hostFileStem('a_3a')).not.toBe(hostFileStem('a:'));
  });

  it('hashes over-long names so the file name always fits', () => {
    const long = `${'abcdefghij.'.repeat(22)}com`;
    const stem = hostFileStem(long);
    expect(stem).toMatch(/^h-[0-9a-f]{64}$/);
    expect(hostFileStem(long)).toBe(stem);
  });
});
