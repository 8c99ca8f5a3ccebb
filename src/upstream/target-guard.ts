import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import picomatch from 'picomatch';

/**
 * The SSRF guard: which destinations the proxy may open connections to. Pure (no DNS): names are judged here by
 * shape, and their resolved addresses by the guarded lookup (lookup.ts), which calls checkAddress for each.
 *
 * Refused by default: loopback, unspecified, link-local (this covers 169.254.169.254, the cloud metadata address),
 * the AWS IPv6 metadata address, the IPv4-mapped / -compatible / NAT64 IPv6 spellings of all of those, `localhost`
 * names, and the proxy's own listen address:port (a request to ourselves is a loop).
 *
 * Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are deliberately allowed: office proxies exist to reach
 * intranet hosts. Deployments that must not reach them belong in policy rules, not here.
 */
export type GuardResult = { ok: true } | { ok: false; reason: string };

export interface TargetGuard {
  /** A host as written in a URL or CONNECT line (name, any IPv4 spelling, bracketed IPv6). */
  checkHost(host: string, port: number): GuardResult;
  /** A resolved IP address about to be connected to. Port 0 means "not known" and skips the self check. */
  checkAddress(ip: string, port: number): GuardResult;
  /** An address `host` resolved to: an allow-listed name may resolve anywhere except to the proxy itself. */
  checkResolved(host: string, ip: string, port: number): GuardResult;
}

export interface TargetGuardOptions {
  /** CIDRs ("127.0.0.0/8", "::1/128"), single IPs, exact host names or picomatch host globs. */
  allow: readonly string[];
  /** Read on every check (not copied): the listener fills in the real port once it is bound. */
  selfAddresses: ReadonlyArray<{ host: string; port: number }>;
}

const OK: GuardResult = Object.freeze({ ok: true });

const DENIED: ReadonlyArray<[cidr: string, label: string]> = [
  ['127.0.0.0/8', 'a loopback address'],
  ['0.0.0.0/8', 'an unspecified address'],
  ['169.254.0.0/16', 'a link-local (cloud metadata) address'],
  ['::1/128', 'a loopback address'],
  ['::/128', 'an unspecified address'],
  ['fe80::/10', 'a link-local address'],
  ['fd00:ec2::254/128', 'the cloud metadata address'],
];

const REFUSED = (reason: string): GuardResult => Object.freeze({ ok: false, reason });
const HOST_MEMO_MAX = 4096;

export function createTargetGuard(opts: TargetGuardOptions): TargetGuard {
  const allowIps = new BlockList();
  const allowNames = new Set<string>();
  const globs: string[] = [];
  for (const entry of opts.allow) compileAllow(entry.trim(), allowIps, allowNames, globs);
  const globMatch = globs.length > 0 ? picomatch(globs, { nocase: true }) : () => false;
  const loopbackAllowed = allowIps.check('127.0.0.1', 'ipv4') || allowIps.check('::1', 'ipv6');
  const denied = DENIED.map(([cidr, label]) => ({ list: subnetList(cidr), label }));
  let localIps: Set<string> | undefined;

  const nameAllowed = (name: string): boolean => allowNames.has(name) || globMatch(name);

  const isSelf = (ip: string, port: number): boolean => {
    for (const self of opts.selfAddresses) {
      if (self.port !== port || port === 0) continue;
      const host = canonicalHost(self.host);
      if (host === ip) return true;
      if (host === '0.0.0.0' || host === '::') {
        // A wildcard listener answers on every local address; enumerate them once, lazily.
        localIps ??= localAddresses();
        if (localIps.has(ip) || isLoopback(ip)) return true;
      }
      if (host === 'localhost' && isLoopback(ip)) return true;
    }
    return false;
  };

  const checkAddress = (ip: string, port: number): GuardResult => {
    const addr = canonicalHost(ip);
    if (addr === undefined || isIP(addr) === 0) return REFUSED(`${ip} is not an IP address`);
    if (isSelf(addr, port)) return REFUSED(`${formatHostPort(addr, port)} is this proxy's own address`);
    const family = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    const v4 = family === 'ipv6' ? embeddedIpv4(addr) : undefined;
    if (allowIps.check(addr, family) || (v4 && allowIps.check(v4, 'ipv4'))) return OK;
    // The address as written first (so ::1 reads as loopback), then the IPv4 address an IPv6 form embeds.
    const hit = denied.find(({ list }) => list.check(addr, family)) ?? (v4 ? denied.find(({ list }) => list.check(v4, 'ipv4')) : undefined);
    return hit ? REFUSED(`${ip} is ${hit.label}`) : OK;
  };

  // Verdicts on hosts as written are memoised: canonicalHost parses a URL and BlockList.check builds a SocketAddress,
  // ~4 µs per request on the forward proxy's hot path, for an answer that only changes when selfAddresses grows (the
  // listener adds its real port once bound). Bounded: dropped whole when full (e.g. a crawl over many hosts).
  const memo = new Map<string, GuardResult>();
  let memoFor = opts.selfAddresses.length;
  const checkHost = (host: string, port: number): GuardResult => {
    if (memoFor !== opts.selfAddresses.length) {
      memo.clear();
      memoFor = opts.selfAddresses.length;
    }
    const key = `${port} ${host}`;
    let verdict = memo.get(key);
    if (verdict === undefined) {
      verdict = judgeHost(host, port);
      if (memo.size >= HOST_MEMO_MAX) memo.clear();
      memo.set(key, verdict);
    }
    return verdict;
  };

  const judgeHost = (host: string, port: number): GuardResult => {
    const name = canonicalHost(host);
    if (name === undefined) return REFUSED(`"${host}" is not a valid host`);
    if (isIP(name) !== 0) return checkAddress(name, port);
    if (nameAllowed(name)) return OK;
    // RFC 6761: localhost names always resolve to loopback; unless loopback is allowed, refuse them before any DNS.
    if ((name === 'localhost' || name.endsWith('.localhost')) && !loopbackAllowed) return REFUSED(`${name} is a loopback name`);
    return OK;
  };

  const checkResolved = (host: string, ip: string, port: number): GuardResult => {
    const name = canonicalHost(host);
    if (name === undefined || isIP(name) !== 0 || !nameAllowed(name)) return checkAddress(ip, port);
    const addr = canonicalHost(ip);
    return addr !== undefined && isSelf(addr, port) ? REFUSED(`${formatHostPort(addr, port)} is this proxy's own address`) : OK;
  };

  return { checkHost, checkAddress, checkResolved };
}

/**
 * The one spelling of a host: lowercase, no brackets, no trailing dot, IPv4 in dotted quad. The WHATWG URL parser
 * turns 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into 127.0.0.1 (getaddrinfo would accept them too, so they must be
 * judged by what they mean). undefined for anything that is not a valid host.
 */
export function canonicalHost(host: string): string | undefined {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h) === 6) return parseHostname(`[${h}]`)?.slice(1, -1);
  h = h.replace(/\.+$/, '');
  if (h === '' || /[/?#@:\\\s%[\]]/.test(h)) return undefined;
  const out = parseHostname(h);
  return out === undefined || out.startsWith('[') ? undefined : out;
}

function parseHostname(h: string): string | undefined {
  try {
    return new URL(`http://${h}/`).hostname || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The IPv4 address an IPv6 form carries: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
 * (64:ff9b::/96), 6to4 (2002:AABB:CCDD::/48, RFC 3056) and Teredo (2001:0::/32, RFC 4380: the client address,
 * stored inverted in the last 32 bits). A relay turns any of these into traffic to that IPv4 address.
 */
export function embeddedIpv4(ipv6: string): string | undefined {
  const h = ipv6Hextets(ipv6);
  if (!h) return undefined;
  const zeros = (from: number, to: number): boolean => h.slice(from, to).every((x) => x === 0);
  const quad = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (h[0] === 0x2002) return quad(h[1] as number, h[2] as number);
  if (h[0] === 0x2001 && h[1] === 0) return quad((h[6] as number) ^ 0xffff, (h[7] as number) ^ 0xffff);
  const mapped = zeros(0, 5) && h[5] === 0xffff;
  const compat = zeros(0, 6);
  const nat64 = h[0] === 0x64 && h[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !compat && !nat64) return undefined;
  return quad(h[6] as number, h[7] as number);
}

function ipv6Hextets(ip: string): number[] | undefined {
  if (isIP(ip) !== 6) return undefined;
  let s = ip;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((x) => parseInt(x, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) out.add(canonicalHost(info.address.replace(/%.*$/, '')) ?? info.address);
  }
  return out;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || (embeddedIpv4(ip) ?? ip).startsWith('127.');
}

function subnetList(cidr: string): BlockList {
  const list = new BlockList();
  const [net = '', bits = ''] = cidr.split('/');
  list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  return list;
}

function compileAllow(entry: string, ips: BlockList, names: Set<string>, globs: string[]): void {
  if (entry === '') return;
  const cidr = /^\[?([0-9a-fA-F:.]+)\]?(?:\/(\d{1,3}))?$/.exec(entry);
  const family = cidr ? isIP(cidr[1] as string) : 0;
  if (cidr && family !== 0) {
    const max = family === 4 ? 32 : 128;
    const bits = cidr[2] === undefined ? max : Number(cidr[2]);
    if (bits > max) throw new Error(`targets.allow: invalid CIDR "${entry}"`);
    ips.addSubnet(cidr[1] as string, bits, family === 4 ? 'ipv4' : 'ipv6');
    return;
  }
  const lower = entry.toLowerCase().replace(/\.+$/, '');
  if (picomatch.scan(lower).isGlob) globs.push(lower);
  else if (canonicalHost(lower) !== undefined) names.add(canonicalHost(lower) as string);
  else throw new Error(`targets.allow: "${entry}" is neither a CIDR nor a host name`);
}

function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
