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

/**
 * `a.b.example.com` → [`a.b.example.com`, `b.example.com`, `example.com`, `com`]: the names a suffix walk probes, made
 * once per decision and shared by every host matcher and the category index (each walk used to slice the host
 * again, and a fresh string is hashed again on every Map lookup).
 */
export function hostSuffixes(host: string): string[] {
  const out = [host];
  for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) out.push(host.slice(dot + 1));
  return out;
}
