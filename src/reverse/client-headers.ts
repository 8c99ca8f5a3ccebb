import { BlockList, isIP } from 'node:net';
import type { Flow, RawHeaders } from '../core/flow.js';

/** The trusted-proxy list compiled once: CIDRs or addresses whose X-Forwarded-For / Forwarded we keep and extend. */
export function trustedProxies(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = '', bits] = entry.split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`trustedProxies: "${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  if (entries.length === 0) return () => false;
  return (ip) => {
    const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** One X-Forwarded-For element as an address: `[v6]`, `[v6]:port` and `v4:port` (some proxies add ports) unwrapped. */
function hopAddress(element: string): string | undefined {
  let e = element.trim();
  if (e.startsWith('[')) e = e.slice(1, e.indexOf(']') > 0 ? e.indexOf(']') : undefined);
  else if (e.indexOf(':') > 0 && e.indexOf(':') === e.lastIndexOf(':')) e = e.slice(0, e.indexOf(':'));
  return isIP(e) === 0 ? undefined : e;
}

/**
 * Pure: the client behind `peer`. An untrusted peer is the client, whatever X-Forwarded-For it sends. From a trusted
 * peer, the chain is walked from the right past trusted hops, and the first untrusted address is the client (nginx's
 * real_ip_recursive, HAProxy); if every hop is trusted, the leftmost; an element that is not an address ends the walk
 * at the hop to its right. `forwardedFor` is every X-Forwarded-For field value, in order.
 */
export function clientAddress(peer: string, forwardedFor: readonly string[], trusted: (ip: string) => boolean): string {
  if (!trusted(peer)) return peer;
  let client = peer;
  for (let f = forwardedFor.length - 1; f >= 0; f--) {
    const elements = (forwardedFor[f] as string).split(',');
    for (let i = elements.length - 1; i >= 0; i--) {
      const ip = hopAddress(elements[i] as string);
      if (ip === undefined) return client;
      client = ip;
      if (!trusted(ip)) return client;
    }
  }
  return client;
}

/**
 * Records on the flow the client a trusted proxy forwards for (`notes.realIp`, when it is not the peer itself) and
 * says whether the peer is trusted. Untrusted peers cost one lookup and nothing else.
 */
export function noteRealIp(flow: Pick<Flow, 'client' | 'request' | 'notes'>, trusted: (ip: string) => boolean): boolean {
  if (!trusted(flow.client.ip)) return false;
  const xff: string[] = [];
  for (const [name, value] of flow.request.headers) if (name.toLowerCase() === 'x-forwarded-for') xff.push(value);
  const ip = clientAddress(flow.client.ip, xff, trusted);
  if (ip !== flow.client.ip) flow.notes.realIp = ip;
  return true;
}

export interface ClientHop {
  /** The address of the peer that connected to us. */
  readonly ip: string;
  readonly proto: 'http' | 'https';
  /** The Host the client asked for. */
  readonly host: string | undefined;
}

const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/** RFC 7239 §6: IPv6 nodes are bracketed and quoted; values outside token characters are quoted. */
function node(ip: string): string {
  return isIP(ip) === 6 ? `"[${ip}]"` : ip;
}

function quoted(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

function first(headers: RawHeaders, lower: string): string | undefined {
  for (const [name, value] of headers) if (name.toLowerCase() === lower) return value;
  return undefined;
}

/**
 * X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded for the backend. From a trusted proxy the incoming chain is
 * kept and our hop appended (and its -Proto/-Host kept); from anyone else every incoming forwarding field is dropped
 * and replaced, so a client cannot forge its address.
 */
export function withForwarding(headers: RawHeaders, hop: ClientHop, trusted: boolean): RawHeaders {
  const kept = trusted ? headers : headers.filter(([name]) => !FORWARDING.has(name.toLowerCase()));
  const xff = trusted ? kept.filter(([n]) => n.toLowerCase() === 'x-forwarded-for').map(([, v]) => v.trim()) : [];
  const fwd = trusted ? kept.filter(([n]) => n.toLowerCase() === 'forwarded').map(([, v]) => v.trim()) : [];
  const proto = (trusted ? first(kept, 'x-forwarded-proto') : undefined) ?? hop.proto;
  const host = (trusted ? first(kept, 'x-forwarded-host') : undefined) ?? hop.host;
  const out = kept.filter(([name]) => !FORWARDING.has(name.toLowerCase()));
  out.push(['X-Forwarded-For', [...xff, hop.ip].join(', ')]);
  out.push(['X-Forwarded-Proto', proto]);
  if (host !== undefined) out.push(['X-Forwarded-Host', host]);
  const element = `for=${node(hop.ip)};proto=${hop.proto}${hop.host === undefined ? '' : `;host=${quoted(hop.host)}`}`;
  out.push(['Forwarded', [...fwd, element].join(', ')]);
  return out;
}
