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
/** By name length: whether a forwarding name has that length (9, 15, 16, 17); other names are copied unread. */
const FORWARDING_LENGTH: boolean[] = [];
for (const name of FORWARDING) FORWARDING_LENGTH[name.length] = true;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** RFC 7239 §6: IPv6 nodes are bracketed and quoted; values outside token characters are quoted. */
function node(ip: string): string {
  return ip.includes(':') && isIP(ip) === 6 ? `"[${ip}]"` : ip;
}

/** A Host with a port is not a token (`:`), so nearly every value is quoted; escaping is only looked for when needed. */
function quoted(value: string): string {
  if (TOKEN.test(value)) return value;
  return value.includes('"') || value.includes('\\') ? `"${value.replace(/(["\\])/g, '\\$1')}"` : `"${value}"`;
}

/** What one pass over the incoming fields found: the fields to keep, and a trusted peer's forwarding chain. */
interface Incoming {
  readonly out: RawHeaders;
  /** The X-Forwarded-For and Forwarded lists so far, their field values joined by ", " (undefined: none). */
  xff: string | undefined;
  fwd: string | undefined;
  proto: string | undefined;
  host: string | undefined;
}

/**
 * One pass: every field but the forwarding ones is kept in order; from a trusted peer the chain (X-Forwarded-For,
 * Forwarded) and the first -Proto / -Host are collected, from anyone else they are dropped unread. A name is lowercased
 * only when its length is that of a forwarding name.
 */
function splitForwarding(headers: RawHeaders, trusted: boolean): Incoming {
  const found: Incoming = { out: [], xff: undefined, fwd: undefined, proto: undefined, host: undefined };
  for (const field of headers) {
    const name = field[0];
    const lower = FORWARDING_LENGTH[name.length] === true ? name.toLowerCase() : '';
    if (lower === '' || !FORWARDING.has(lower)) found.out.push(field);
    else if (!trusted) continue;
    else if (lower === 'x-forwarded-for') found.xff = listed(found.xff, field[1].trim());
    else if (lower === 'forwarded') found.fwd = listed(found.fwd, field[1].trim());
    else if (lower === 'x-forwarded-proto') found.proto ??= field[1];
    else found.host ??= field[1];
  }
  return found;
}

/** A list value with one more element (no array and join for the usual list of one). */
function listed(list: string | undefined, element: string): string {
  return list === undefined ? element : `${list}, ${element}`;
}

/**
 * X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded for the backend. From a trusted proxy the incoming chain is
 * kept and our hop appended (and its -Proto/-Host kept); from anyone else every incoming forwarding field is dropped
 * and replaced, so a client cannot forge its address.
 */
export function withForwarding(headers: RawHeaders, hop: ClientHop, trusted: boolean): RawHeaders {
  const { out, xff, fwd, proto, host } = splitForwarding(headers, trusted);
  const forwardedHost = host ?? hop.host;
  out.push(['X-Forwarded-For', listed(xff, hop.ip)]);
  out.push(['X-Forwarded-Proto', proto ?? hop.proto]);
  if (forwardedHost !== undefined) out.push(['X-Forwarded-Host', forwardedHost]);
  out.push(['Forwarded', listed(fwd, `for=${node(hop.ip)};proto=${hop.proto}${hop.host === undefined ? '' : `;host=${quoted(hop.host)}`}`)]);
  return out;
}
