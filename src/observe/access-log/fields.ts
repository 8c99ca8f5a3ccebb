import type { FlowRecord, RawHeaders } from '../../core/flow.js';

/** "ip:port" (IPv6 without brackets, as FlowRecord.client has it) → ip. */
export function clientIp(client: string): string {
  const i = client.lastIndexOf(':');
  return i > 0 ? client.slice(0, i) : client;
}

/** "host:port" or "[v6]:port" → host. */
export function hostOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
  const i = authority.lastIndexOf(':');
  return i > 0 && authority.indexOf(':') === i ? authority.slice(0, i) : authority;
}

/** When the exchange ended (ms since epoch): start + total. */
export function endTimeMs(r: FlowRecord): number {
  return Date.parse(r.time) + (r.timings.total ?? 0);
}

/** First value of a captured header (names are lower-case in records); undefined when not captured. */
export function headerValue(headers: RawHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}
