import { domainToASCII } from 'node:url';

const ASCII_HOST = /^[a-z0-9._-]*$/;

/**
 * The one host spelling every matcher sees: lowercase, IDN as punycode (`domainToASCII`), no trailing dot, IPv6
 * without brackets. Returns '' for a host that cannot be a domain name.
 */
export function normaliseHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) return h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (ASCII_HOST.test(h)) return h;
  if (h.includes(':')) return h; // a bare IPv6 literal
  return domainToASCII(h);
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** True for a syntactically valid (normalised) domain name of at least one label. */
export function isDomainName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  for (const label of host.split('.')) if (!LABEL.test(label)) return false;
  return true;
}
