import { isIP } from 'node:net';
import { CA_PAGE_HOST } from './local-routes.js';

/** Pure parsing of proxy request targets (RFC 9112 §3.2): absolute-form, authority-form, origin-form. */
export interface Authority { host: string; port: number }

/** `CONNECT host:port` / `[v6]:port`. The host is lowercased, a trailing dot removed; brackets dropped for IPv6. */
export function parseAuthority(authority: string): Authority | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._~-]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = normalizeHostname(m[1] ?? (m[2] as string));
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  if (!host) return undefined;
  return { host, port };
}

export function normalizeHostname(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** host:port with brackets for IPv6, as it appears in a URL or a Host header. */
export function formatAuthority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** The hostname of a URL without IPv6 brackets. */
export function urlHost(url: URL): string {
  return normalizeHostname(url.hostname);
}

export function urlPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
}

export type TargetResult =
  | { kind: 'proxy'; url: URL }
  | { kind: 'local'; path: string }
  | { kind: 'invalid'; reason: string };

const SCHEMES = new Set(['http:', 'ws:']);

/**
 * What a request on the proxy's own port asks for. Absolute-form (`GET http://host/x`) is proxied; origin-form
 * (`GET /proxy.pac`) is addressed to the proxy itself.
 */
export function plainTarget(requestTarget: string): TargetResult {
  if (requestTarget.startsWith('/')) return { kind: 'local', path: requestTarget };
  let url: URL;
  try {
    url = new URL(requestTarget);
  } catch {
    return { kind: 'invalid', reason: `invalid request target "${truncate(requestTarget)}"` };
  }
  if (!SCHEMES.has(url.protocol)) return { kind: 'invalid', reason: `unsupported scheme ${url.protocol} (use CONNECT for https)` };
  if (!url.hostname) return { kind: 'invalid', reason: 'request target has no host' };
  if (url.username || url.password) return { kind: 'invalid', reason: 'credentials in the request target are not allowed' };
  if (url.protocol === 'ws:') url.protocol = 'http:';
  return { kind: 'proxy', url };
}

/** A request inside a tunnel (intercepted TLS or plain HTTP over CONNECT): origin-form against the tunnel target. */
export function tunnelTarget(requestTarget: string, tunnel: Authority, secure: boolean): TargetResult {
  const base = `${secure ? 'https' : 'http'}://${formatAuthority(tunnel.host, tunnel.port)}`;
  if (requestTarget.startsWith('/')) {
    try {
      return { kind: 'proxy', url: new URL(requestTarget, base) };
    } catch {
      return { kind: 'invalid', reason: `invalid request target "${truncate(requestTarget)}"` };
    }
  }
  const abs = plainTarget(requestTarget);
  if (abs.kind !== 'proxy') return abs.kind === 'local' ? { kind: 'invalid', reason: 'bad request target' } : abs;
  if (secure) abs.url.protocol = 'https:';
  return abs;
}

/**
 * Inside an intercepted tunnel the Host header must name the CONNECT target or the SNI name; otherwise a client
 * could CONNECT to an allowed host and send requests for a blocked one (LIBRARIES §2.1).
 */
export function hostMatchesTunnel(hostHeader: string | undefined, tunnel: Authority, sni: string | undefined): boolean {
  if (hostHeader === undefined) return true; // HTTP/1.0 without Host: the tunnel target is used
  const parsed = parseAuthority(hostHeader.includes(':') && !hostHeader.endsWith(']') ? hostHeader : `${hostHeader}:${tunnel.port}`);
  if (!parsed) return false;
  if (parsed.port !== tunnel.port) return false;
  return parsed.host === tunnel.host || (sni !== undefined && parsed.host === normalizeHostname(sni));
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * The express front door's target rule on the forward proxy's port (reverse/express): an absolute-form http:// or
 * ws:// target the proxy forwards, or undefined for everything node:http's path answers itself (origin-form: PAC and
 * local pages; the CA page's host; invalid targets, answered 400 there).
 */
export function absoluteFormTarget(head: { readonly url: string }): URL | undefined {
  if (head.url.charCodeAt(0) === 47 /* / */) return undefined;
  const target = plainTarget(head.url);
  if (target.kind !== 'proxy' || urlHost(target.url) === CA_PAGE_HOST) return undefined;
  return target.url;
}
