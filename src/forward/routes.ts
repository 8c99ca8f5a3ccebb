import type { HostPort } from '../config/schema.js';
import { normaliseHost } from '../policy/host.js';
import { HostGlobs } from '../policy/host-globs.js';
import { formatAuthority } from './target.js';

export interface ForwardRouteSpec {
  /** Host names or globs (`app.portico.test`, `*.portico.test`, `.portico.test` = it and its subdomains). */
  readonly host: readonly string[];
  /** Where matching requests go, whatever DNS says about their host. */
  readonly to: HostPort;
}

export interface ForwardRouteMatch {
  /** host:port the request is sent to. */
  readonly to: string;
  /** The pattern that matched, for notes and logs. */
  readonly pattern: string;
}

export interface ForwardRoutes {
  readonly size: number;
  /** The first route whose hosts match this URL, for plain `http:` URLs only. */
  match(url: URL): ForwardRouteMatch | undefined;
}

/**
 * Compiles the forward proxy's host routes once (first match wins). A route is configuration, so it is trusted: the
 * SSRF guard does not judge its `to` address (that is how the chain reaches its reverse proxy on loopback), while
 * every request that matches no route still goes through the guard as before. Only `http:` URLs are routed: an
 * HTTPS host's TLS would have to be terminated here to be re-sent in clear, and that is MITM's job, not a route's.
 */
export function compileForwardRoutes(specs: readonly ForwardRouteSpec[]): ForwardRoutes {
  const compiled = specs.map((s) => ({ hosts: new HostGlobs(s.host), to: formatAuthority(s.to.host, s.to.port) }));
  return {
    size: compiled.length,
    match(url) {
      if (compiled.length === 0 || url.protocol !== 'http:') return undefined;
      const host = normaliseHost(url.hostname);
      for (const r of compiled) {
        const pattern = r.hosts.match(host);
        if (pattern !== undefined) return { to: r.to, pattern };
      }
      return undefined;
    },
  };
}
