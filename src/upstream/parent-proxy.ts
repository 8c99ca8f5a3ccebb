import { Pool, ProxyAgent } from 'undici';
import { ProxyError } from '../core/errors.js';
import type { RawHeaders } from '../core/flow.js';
import { exchange, upstreamHeaders } from './dispatch.js';
import { mapUpstreamError } from './errors.js';
import { checkedTarget, keepAlive, upstreamSecureContext, type ClosableUpstream, type OriginConfig, type UpstreamDeps } from './origin.js';

/**
 * Sends flows through a parent proxy with undici's ProxyAgent: plain HTTP goes to the parent in absolute-form
 * (proxyTunnel: false), HTTPS origins are tunnelled with CONNECT and TLS runs end to end with the origin. The parent
 * resolves and dials origins, so only the host as written is guarded here; credentials in the URL become
 * Proxy-Authorization to the parent (never the client's, which the forwarded stage removed).
 */
export function createParentProxyUpstream(proxyUrl: URL, cfg: OriginConfig, deps: UpstreamDeps): ClosableUpstream {
  const parent = `${proxyUrl.hostname}:${proxyUrl.port || (proxyUrl.protocol === 'https:' ? 443 : 80)}`;
  const secureContext = upstreamSecureContext(cfg.ca);
  const limits = {
    connections: cfg.maxConnectionsPerOrigin,
    ...keepAlive(cfg.keepAliveTimeoutMs),
    headersTimeout: cfg.headersTimeoutMs,
    bodyTimeout: cfg.bodyTimeoutMs,
  };
  const agent = new ProxyAgent({
    uri: proxyUrl.href,
    proxyTunnel: false,
    ...limits,
    proxyTls: { timeout: cfg.connectTimeoutMs },
    requestTls: { timeout: cfg.connectTimeoutMs, rejectUnauthorized: !cfg.insecure, secureContext },
    // Pools to the parent get our caps and timeouts too (undici's default factory would use its own defaults).
    factory: (origin, opts) => new Pool(origin, { ...opts, ...limits }),
  });
  const mapError = (err: unknown): ProxyError => mapParentError(err, parent);
  return {
    async send(flow) {
      const { host, port } = checkedTarget(flow, deps.guard);
      flow.notes.upstream = `${host}:${port}`;
      const flat = upstreamHeaders(flow.request.headers, flow.request.url.host, flow.requestBody !== null);
      return exchange(flow, {
        dispatcher: agent, clock: deps.clock, mapError,
        headersTimeoutMs: cfg.headersTimeoutMs, bodyTimeoutMs: cfg.bodyTimeoutMs,
        headers: headerObject(flat),
      });
    },
    close: () => agent.close(),
  };
}

/** Failures to reach the parent are the parent's fault (UPSTREAM_PROXY); the rest map as for a direct origin. */
export function mapParentError(err: unknown, parent: string): ProxyError {
  const message = err instanceof Error ? err.message : '';
  const tunnel = /Proxy response \((\d+)\) !== 200/.exec(message);
  if (tunnel) return new ProxyError('UPSTREAM_PROXY', `parent proxy ${parent} answered ${tunnel[1]} to CONNECT`, { cause: err });
  if (message.includes('Proxy Authentication Required')) {
    return new ProxyError('UPSTREAM_PROXY', `parent proxy ${parent} requires authentication`, { cause: err });
  }
  const mapped = mapUpstreamError(err);
  if (mapped.code === 'DNS_FAILED' || mapped.code === 'CONNECT_REFUSED' || mapped.code === 'CONNECT_TIMEOUT') {
    return new ProxyError('UPSTREAM_PROXY', `parent proxy ${parent} is unreachable: ${mapped.message}`, { cause: err });
  }
  return mapped;
}

/**
 * ProxyAgent rebuilds a flat header list into an object (last duplicate wins), so duplicates are grouped into arrays
 * here first; undici writes each array element as its own field line. The first spelling of a name is kept.
 */
export function headerObject(flat: string[]): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>; // a "__proto__" field stays a field
  const names = new Map<string, string>();
  const pairs: RawHeaders = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  for (const [name, value] of pairs) {
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
