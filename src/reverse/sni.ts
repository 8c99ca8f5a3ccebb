import { X509Certificate } from 'node:crypto';

/** Pure: the DNS names a PEM certificate is valid for (subjectAltName DNS entries, else the subject CN). */
export function certificateNames(pem: string): string[] {
  const cert = new X509Certificate(pem);
  const san = cert.subjectAltName ?? '';
  const dns = san.split(/,\s*/).filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
  if (dns.length > 0) return dns;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

/**
 * Server name → certificate, built once per listener: exact names first, then a wildcard `*.example.com` for exactly
 * one more label (RFC 6125 §6.4.3: `a.example.com` yes, `example.com` and `a.b.example.com` no). The first
 * certificate configured for a name wins.
 */
export class SniTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcard = new Map<string, T>();

  add(names: readonly string[], value: T): void {
    for (const raw of names) {
      const name = raw.toLowerCase().replace(/\.$/, '');
      const table = name.startsWith('*.') ? this.wildcard : this.exact;
      const key = name.startsWith('*.') ? name.slice(2) : name;
      if (!table.has(key)) table.set(key, value);
    }
  }

  lookup(servername: string): T | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const hit = this.exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.');
    return dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined;
  }
}
