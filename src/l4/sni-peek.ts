/**
 * Reads the server name from a TLS ClientHello without terminating TLS: pure over the bytes received so far.
 * The ClientHello may span several handshake records; they are reassembled up to `maxBytes`.
 */

export type SniResult =
  | { readonly kind: 'incomplete' }
  /** The first byte is not a TLS handshake record: not TLS at all (route to the default pool). */
  | { readonly kind: 'not-tls' }
  /** A complete ClientHello without a server_name extension (clients connecting by IP). */
  | { readonly kind: 'no-sni' }
  | { readonly kind: 'sni'; readonly name: string }
  | { readonly kind: 'invalid'; readonly reason: string };

const INCOMPLETE: SniResult = Object.freeze({ kind: 'incomplete' });
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;

const invalid = (reason: string): SniResult => ({ kind: 'invalid', reason });

/** Concatenates the handshake bytes of consecutive handshake records; undefined when a record is not one. */
function handshakeBytes(buf: Buffer, need: number): { bytes: Buffer; complete: boolean } | SniResult {
  const parts: Buffer[] = [];
  let have = 0;
  let off = 0;
  while (off + 5 <= buf.length) {
    if (buf[off] !== HANDSHAKE) return off === 0 ? { kind: 'not-tls' } : invalid('a non-handshake record inside the ClientHello');
    if (buf[off + 1] !== 0x03) return invalid(`record version ${buf[off + 1] ?? 0}.${buf[off + 2] ?? 0}`);
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16_384 + 2048) return invalid(`record length ${len}`);
    const body = buf.subarray(off + 5, Math.min(off + 5 + len, buf.length));
    parts.push(body);
    have += body.length;
    if (body.length < len || have >= need) break;
    off += 5 + len;
  }
  if (parts.length === 0 && buf.length > 0 && buf[0] !== HANDSHAKE) return { kind: 'not-tls' };
  const bytes = Buffer.concat(parts, have);
  return { bytes, complete: have >= need };
}

/** Parses a ClientHello from the start of a TCP stream; `maxBytes` bounds how much may be waited for. */
export function peekSni(buf: Buffer, maxBytes = 16_384): SniResult {
  if (buf.length === 0) return INCOMPLETE;
  if (buf[0] !== HANDSHAKE) return { kind: 'not-tls' };
  const head = handshakeBytes(buf, 4);
  if ('kind' in head) return head;
  if (!head.complete) return buf.length >= maxBytes ? invalid(`no ClientHello within ${maxBytes} bytes`) : INCOMPLETE;
  if (head.bytes[0] !== CLIENT_HELLO) return invalid(`handshake type ${head.bytes[0] ?? 0}, expected ClientHello`);
  const hsLen = ((head.bytes[1] ?? 0) << 16) | ((head.bytes[2] ?? 0) << 8) | (head.bytes[3] ?? 0);
  if (hsLen + 4 > maxBytes) return invalid(`ClientHello of ${hsLen} bytes exceeds ${maxBytes}`);
  const full = handshakeBytes(buf, hsLen + 4);
  if ('kind' in full) return full;
  if (!full.complete) return buf.length >= maxBytes ? invalid(`no ClientHello within ${maxBytes} bytes`) : INCOMPLETE;
  return parseClientHello(full.bytes.subarray(4, 4 + hsLen));
}

/** The body of a ClientHello (after the 4-byte handshake header). */
export function parseClientHello(b: Buffer): SniResult {
  let off = 2 + 32; // legacy_version, random
  const need = (n: number): boolean => off + n <= b.length;
  if (!need(1)) return invalid('truncated ClientHello');
  off += 1 + (b[off] ?? 0); // session id
  if (!need(2)) return invalid('truncated ClientHello');
  off += 2 + b.readUInt16BE(off); // cipher suites
  if (!need(1)) return invalid('truncated ClientHello');
  off += 1 + (b[off] ?? 0); // compression methods
  if (off === b.length) return { kind: 'no-sni' }; // no extensions at all
  if (!need(2)) return invalid('truncated ClientHello');
  const extEnd = off + 2 + b.readUInt16BE(off);
  off += 2;
  if (extEnd > b.length) return invalid('truncated extensions');
  while (off + 4 <= extEnd) {
    const type = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    off += 4;
    if (off + len > extEnd) return invalid('truncated extension');
    if (type === EXT_SERVER_NAME) return serverName(b.subarray(off, off + len));
    off += len;
  }
  return { kind: 'no-sni' };
}

function serverName(ext: Buffer): SniResult {
  if (ext.length < 2) return invalid('empty server_name extension');
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let off = 2;
  while (off + 3 <= end) {
    const type = ext[off] ?? 0;
    const len = ext.readUInt16BE(off + 1);
    off += 3;
    if (off + len > end) return invalid('truncated server name');
    if (type === 0) {
      const name = ext.toString('latin1', off, off + len).toLowerCase().replace(/\.$/, '');
      if (!/^[a-z0-9_.-]{1,253}$/.test(name)) return invalid('server name is not a host name');
      return { kind: 'sni', name };
    }
    off += len;
  }
  return { kind: 'no-sni' };
}
