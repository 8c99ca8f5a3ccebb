import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv6, ipv4Bytes, ipv6Bytes, unmapIPv4 } from './address.js';

/**
 * The PROXY protocol (HAProxy, versions 1 and 2) as pure functions over bytes: encode the header Portico sends to
 * a backend, parse the one a trusted downstream balancer sends to Portico. No sockets here.
 */

export interface Endpoint { readonly ip: string; readonly port: number }

export interface ProxyAddresses {
  /** The client as seen by the sender of the header. */
  readonly source: Endpoint;
  /** The address the client connected to. */
  readonly destination: Endpoint;
  readonly transport: 'stream' | 'dgram';
}

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_MAX = 107;
/** A v2 header's address block may carry TLVs; more than this is refused (HAProxy's own limit is 216 + TLVs). */
const V2_MAX_BODY = 4096;

type Family = 'ipv4' | 'ipv6';

/** Both addresses in one family: v4 when both are (mapped) v4, otherwise v6 (a v4 address written v4-mapped). */
function familyOf(a: ProxyAddresses): { family: Family; src: string; dst: string } | undefined {
  const src = unmapIPv4(a.source.ip);
  const dst = unmapIPv4(a.destination.ip);
  if (isIPv4(src) && isIPv4(dst)) return { family: 'ipv4', src, dst };
  const v6 = (ip: string): string | undefined => (isIPv6(ip) ? ip : isIPv4(ip) ? `::ffff:${ip}` : undefined);
  const s6 = v6(src);
  const d6 = v6(dst);
  return s6 === undefined || d6 === undefined ? undefined : { family: 'ipv6', src: s6, dst: d6 };
}

/** `PROXY TCP4 src dst sport dport\r\n`; `PROXY UNKNOWN\r\n` when the addresses are unknown or not IP. */
export function encodeV1(a: ProxyAddresses | undefined): Buffer {
  const f = a === undefined ? undefined : familyOf(a);
  if (a === undefined || f === undefined) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const proto = f.family === 'ipv4' ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${proto} ${f.src} ${f.dst} ${a.source.port} ${a.destination.port}\r\n`, 'latin1');
}

/** The binary v2 header: PROXY command with addresses, or LOCAL (no addresses) when they are unknown. */
export function encodeV2(a: ProxyAddresses | undefined): Buffer {
  const f = a === undefined ? undefined : familyOf(a);
  if (a === undefined || f === undefined) {
    const out = Buffer.alloc(16);
    V2_SIGNATURE.copy(out, 0);
    out[12] = 0x20; // version 2, LOCAL
    out[13] = 0x00; // UNSPEC
    out.writeUInt16BE(0, 14);
    return out;
  }
  const v4 = f.family === 'ipv4';
  const addrLen = v4 ? 12 : 36;
  const out = Buffer.alloc(16 + addrLen);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = (v4 ? 0x10 : 0x20) | (a.transport === 'stream' ? 0x01 : 0x02);
  out.writeUInt16BE(addrLen, 14);
  const bytes = v4 ? ipv4Bytes : ipv6Bytes;
  const size = v4 ? 4 : 16;
  out.set(bytes(f.src), 16);
  out.set(bytes(f.dst), 16 + size);
  out.writeUInt16BE(a.source.port, 16 + 2 * size);
  out.writeUInt16BE(a.destination.port, 18 + 2 * size);
  return out;
}

export type ParseResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** `addresses` is undefined for v1 UNKNOWN, v2 LOCAL and v2 UNSPEC/UNIX: use the connection's own addresses. */
  | { readonly kind: 'ok'; readonly version: 1 | 2; readonly length: number; readonly addresses: ProxyAddresses | undefined };

const INCOMPLETE: ParseResult = Object.freeze({ kind: 'incomplete' });
const invalid = (reason: string): ParseResult => ({ kind: 'invalid', reason });

/** Parses a PROXY header at the start of `buf` (v1 or v2); `length` is how many bytes it took. */
export function parseProxyHeader(buf: Buffer): ParseResult {
  if (buf.length === 0) return INCOMPLETE;
  const sigLen = Math.min(buf.length, V2_SIGNATURE.length);
  if (buf.subarray(0, sigLen).equals(V2_SIGNATURE.subarray(0, sigLen))) {
    return sigLen < V2_SIGNATURE.length ? INCOMPLETE : parseV2(buf);
  }
  const prefix = Buffer.from('PROXY ', 'latin1');
  const n = Math.min(buf.length, prefix.length);
  if (!buf.subarray(0, n).equals(prefix.subarray(0, n))) return invalid('no PROXY protocol header');
  return parseV1(buf);
}

function parseV1(buf: Buffer): ParseResult {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return buf.length >= V1_MAX ? invalid(`v1 header longer than ${V1_MAX} bytes`) : INCOMPLETE;
  if (end + 2 > V1_MAX) return invalid(`v1 header longer than ${V1_MAX} bytes`);
  const parts = buf.toString('latin1', 0, end).split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'ok', version: 1, length: end + 2, addresses: undefined };
  if (parts.length !== 6) return invalid('v1 header: expected PROXY TCP4|TCP6 SRC DST SPORT DPORT');
  const [, proto, src = '', dst = '', sport = '', dport = ''] = parts;
  const isIp = proto === 'TCP4' ? isIPv4 : proto === 'TCP6' ? isIPv6 : undefined;
  if (isIp === undefined) return invalid(`v1 header: unknown protocol "${proto ?? ''}"`);
  if (!isIp(src) || !isIp(dst)) return invalid(`v1 header: bad ${proto} address`);
  const port = (s: string): number | undefined => (/^(0|[1-9]\d{0,4})$/.test(s) && Number(s) <= 65535 ? Number(s) : undefined);
  const sp = port(sport);
  const dp = port(dport);
  if (sp === undefined || dp === undefined) return invalid('v1 header: bad port');
  return { kind: 'ok', version: 1, length: end + 2, addresses: { source: { ip: src, port: sp }, destination: { ip: dst, port: dp }, transport: 'stream' } };
}

function parseV2(buf: Buffer): ParseResult {
  if (buf.length < 16) return INCOMPLETE;
  const verCmd = buf[12] ?? 0;
  if (verCmd >> 4 !== 2) return invalid(`v2 header: version ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return invalid(`v2 header: unknown command ${cmd}`);
  const len = buf.readUInt16BE(14);
  if (len > V2_MAX_BODY) return invalid(`v2 header: ${len} address bytes (limit ${V2_MAX_BODY})`);
  if (buf.length < 16 + len) return INCOMPLETE;
  const total = 16 + len;
  const fam = buf[13] ?? 0;
  if (cmd === 0) return { kind: 'ok', version: 2, length: total, addresses: undefined }; // LOCAL: health checks etc.
  const transport = (fam & 0x0f) === 0x02 ? 'dgram' : 'stream';
  switch (fam >> 4) {
    case 1: {
      if (len < 12) return invalid('v2 header: short IPv4 address block');
      const ip = (o: number): string => `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
      return { kind: 'ok', version: 2, length: total, addresses: {
        source: { ip: ip(16), port: buf.readUInt16BE(24) }, destination: { ip: ip(20), port: buf.readUInt16BE(26) }, transport } };
    }
    case 2: {
      if (len < 36) return invalid('v2 header: short IPv6 address block');
      return { kind: 'ok', version: 2, length: total, addresses: {
        source: { ip: formatIPv6(buf.subarray(16, 32)), port: buf.readUInt16BE(48) },
        destination: { ip: formatIPv6(buf.subarray(32, 48)), port: buf.readUInt16BE(50) }, transport } };
    }
    default:
      return { kind: 'ok', version: 2, length: total, addresses: undefined }; // UNSPEC or UNIX: keep the socket's addresses
  }
}
