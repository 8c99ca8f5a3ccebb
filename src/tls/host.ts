import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/** Longest DNS name (RFC 1035) and label; anything longer is not a name a client can resolve. */
const MAX_NAME_CHARS = 253;
const MAX_LABEL_CHARS = 63;
/** Labels may carry `_` (SRV-style and some internal names) and `*` (a wildcard asked for explicitly). */
const LABEL = /^[a-z0-9_*-]+$/;
/** Keeps a cache file name under common 255-byte file-name limits, with room for a suffix and a temp tag. */
const MAX_FILE_STEM_CHARS = 200;

export type HostKind = 'dns' | 'ipv4' | 'ipv6';

export interface NormalizedHost {
  /** Lowercase, no trailing dot; IPv6 without brackets in its canonical compressed form. */
  readonly name: string;
  readonly kind: HostKind;
}

/** `4` or `6` for an IP literal (IPv6 plain or bracketed), else `0`. */
export function ipVersion(h: string): 0 | 4 | 6 {
  const bare = unbracket(h);
  // A zone id (`fe80::1%eth0`) is local to one machine and cannot go in a certificate.
  if (bare.includes('%')) return 0;
  const v = isIP(bare);
  return v === 4 || v === 6 ? v : 0;
}

export function isIp(h: string): boolean {
  return ipVersion(h) !== 0;
}

/**
 * Canonical form of a host for certificate issuance and caching, so `Example.COM.`, `example.com` and
 * `[::0:1]` / `::1` share one certificate. Throws on anything that is neither a DNS name nor an IP literal:
 * the name ends up in a certificate and a file name, so garbage must stop here.
 */
export function normalizeHost(h: string): NormalizedHost {
  const lowered = h.trim().toLowerCase();
  const version = ipVersion(lowered);
  if (version === 4) return { name: lowered, kind: 'ipv4' };
  if (version === 6) return { name: canonicalIpv6(unbracket(lowered)), kind: 'ipv6' };
  const name = lowered.endsWith('.') ? lowered.slice(0, -1) : lowered;
  if (!isValidDnsName(name)) throw new Error(`invalid host name for a certificate: ${JSON.stringify(h.slice(0, 300))}`);
  return { name, kind: 'dns' };
}

export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_CHARS) return false;
  return name.split('.').every((label) => label.length > 0 && label.length <= MAX_LABEL_CHARS && LABEL.test(label));
}

/**
 * A file name for a normalized host that is safe on every OS: `:` (IPv6), `*` and `_` are escaped as `_xx`
 * so the mapping stays one-to-one; over-long names fall back to a hash so the name always fits.
 */
export function hostFileStem(name: string): string {
  const escaped = name.replace(/[^a-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (escaped.length <= MAX_FILE_STEM_CHARS) return escaped;
  return `h-${createHash('sha256').update(name).digest('hex')}`;
}

function unbracket(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** The WHATWG URL parser gives the RFC 5952 form (`::ffff:1.2.3.4` becomes `::ffff:102:304`, which forge can encode). */
function canonicalIpv6(ip: string): string {
  return unbracket(new URL(`http://[${ip}]/`).hostname);
}
