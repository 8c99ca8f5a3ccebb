import { describe, expect, it } from 'vitest';
import { encodeV1, encodeV2, parseProxyHeader, V2_SIGNATURE, type ProxyAddresses } from '../../../src/l4/proxy-protocol.js';

const v4: ProxyAddresses = { source: { ip: '192.0.2.7', port: 51000 }, destination: { ip: '198.51.100.1', port: 443 }, transport: 'stream' };
const v6: ProxyAddresses = { source: { ip: '2001:db8::7', port: 51000 }, destination: { ip: '2001:db8:0:1::1', port: 443 }, transport: 'stream' };

describe('PROXY protocol v1', () => {
  it('encodes TCP4, TCP6 and UNKNOWN byte for byte', () => {
    expect(encodeV1(v4).toString('latin1')).toBe('PROXY TCP4 192.0.2.7 198.51.100.1 51000 443\r\n');
    expect(encodeV1(v6).toString('latin1')).toBe('PROXY TCP6 2001:db8::7 2001:db8:0:1::1 51000 443\r\n');
    expect(encodeV1(undefined).toString('latin1')).toBe('PROXY UNKNOWN\r\n');
  });

  it('writes v4-mapped IPv6 peers as TCP4, and mixed families as TCP6', () => {
    const mapped = { ...v4, source: { ip: '::ffff:192.0.2.7', port: 1 } };
    expect(encodeV1(mapped).toString('latin1')).toBe('PROXY TCP4 192.0.2.7 198.51.100.1 1 443\r\n');
    const mixed = { ...v6, destination: { ip: '198.51.100.1', port: 443 } };
    expect(encodeV1(mixed).toString('latin1')).toBe('PROXY TCP6 2001:db8::7 ::ffff:198.51.100.1 51000 443\r\n');
  });

  it('parses what it encodes, with the header length, leaving the payload after it', () => {
    const bytes = Buffer.concat([encodeV1(v4), Buffer.from('GET / HTTP/1.1\r\n')]);
    const r = parseProxyHeader(bytes);
    expect(r).toEqual({ kind: 'ok', version: 1, length: 45, addresses: v4 });
    expect(bytes.subarray(45).toString()).toBe('GET / HTTP/1.1\r\n');
    expect(parseProxyHeader(encodeV1(v6))).toMatchObject({ kind: 'ok', addresses: v6 });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ::1 1 2\r\n'))).toMatchObject({ kind: 'ok', addresses: undefined });
  });

  it('waits for more bytes, and refuses bad headers with a reason', () => {
    expect(parseProxyHeader(Buffer.from('PRO'))).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4'))).toEqual({ kind: 'incomplete' });
    const bad = (s: string): string => {
      const r = parseProxyHeader(Buffer.from(s, 'latin1'));
      return r.kind === 'invalid' ? r.reason : r.kind;
    };
    expect(bad('GET / HTTP/1.1\r\n')).toBe('no PROXY protocol header');
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n')).toBe('v1 header: bad port');
    expect(bad('PROXY TCP4 ::1 ::1 1 2\r\n')).toBe('v1 header: bad TCP4 address');
    expect(bad('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n')).toBe('v1 header: unknown protocol "UDP4"');
    expect(bad(`PROXY TCP4 ${'1'.repeat(120)}`)).toMatch(/longer than 107 bytes/);
  });
});

describe('PROXY protocol v2', () => {
  it('encodes an IPv4 stream header byte for byte', () => {
    const hex = encodeV2(v4).toString('hex');
    // signature, v2+PROXY, TCP over IPv4, 12 address bytes, 192.0.2.7, 198.51.100.1, 51000, 443
    expect(hex).toBe(`${V2_SIGNATURE.toString('hex')}2111000c` + 'c0000207' + 'c6336401' + 'c738' + '01bb');
    expect(encodeV2(v4).length).toBe(28);
  });

  it('encodes IPv6 (36 address bytes), UDP, and LOCAL when the addresses are unknown', () => {
    const b = encodeV2(v6);
    expect(b.length).toBe(52);
    expect(b[12]).toBe(0x21);
    expect(b[13]).toBe(0x21);
    expect(b.readUInt16BE(14)).toBe(36);
    expect(b.subarray(16, 32).toString('hex')).toBe('20010db8000000000000000000000007');
    expect(encodeV2({ ...v4, transport: 'dgram' })[13]).toBe(0x12);
    expect(encodeV2(undefined).toString('hex')).toBe(`${V2_SIGNATURE.toString('hex')}20000000`);
  });

  it('round-trips v4 and v6, and skips TLVs after the addresses', () => {
    expect(parseProxyHeader(encodeV2(v4))).toEqual({ kind: 'ok', version: 2, length: 28, addresses: v4 });
    expect(parseProxyHeader(encodeV2(v6))).toEqual({ kind: 'ok', version: 2, length: 52, addresses: v6 });
    const withTlv = Buffer.from(encodeV2(v4));
    withTlv.writeUInt16BE(12 + 7, 14);
    const tlv = Buffer.from([0x01, 0x00, 0x04, 0x68, 0x32, 0x00, 0x00]); // ALPN "h2.."
    const r = parseProxyHeader(Buffer.concat([withTlv, tlv, Buffer.from('payload')]));
    expect(r).toMatchObject({ kind: 'ok', length: 35, addresses: v4 });
    expect(parseProxyHeader(encodeV2(undefined))).toEqual({ kind: 'ok', version: 2, length: 16, addresses: undefined });
  });

  it('is incomplete until every address byte is there; refuses a wrong version or command', () => {
    const full = encodeV2(v4);
    for (const n of [1, 11, 12, 15, 16, 27]) expect(parseProxyHeader(full.subarray(0, n)).kind).toBe('incomplete');
    const v3 = Buffer.from(full);
    v3[12] = 0x31;
    expect(parseProxyHeader(v3)).toEqual({ kind: 'invalid', reason: 'v2 header: version 3' });
    const cmd = Buffer.from(full);
    cmd[12] = 0x2f;
    expect(parseProxyHeader(cmd)).toEqual({ kind: 'invalid', reason: 'v2 header: unknown command 15' });
  });
});
