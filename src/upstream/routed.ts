import { buildConnector } from 'undici';
import type { Clock } from '../core/clock.js';
import type { Upstream, UpstreamResponse } from '../core/stage.js';
import type { ForwardRoutes } from '../forward/routes.js';
import { exchange, upstreamHeaders } from './dispatch.js';
import { mapUpstreamError } from './errors.js';
import { H1Pool, UPSTREAM_MAX_HEADER_BYTES } from './h1/pool.js';
import { parseAddress } from './backend.js';
import type { ClosableUpstream, OriginConfig } from './origin.js';

/**
 * Sends requests whose host matches a forward route to the route's address (a keep-alive H1Pool per address,
 * capped like an origin), with the Host header unchanged, so a reverse proxy there sees `app.portico.test`. No DNS
 * and no SSRF guard: the address is configuration (forward/routes.ts says why). Everything else goes to `fallback`.
 */
export function createRoutedUpstream(routes: ForwardRoutes, fallback: Upstream, cfg: OriginConfig, deps: { clock: Clock }): ClosableUpstream {
  const pools = new Map<string, H1Pool>();
  const connect = buildConnector({ timeout: cfg.connectTimeoutMs });
  const poolFor = (to: string): H1Pool => {
    let pool = pools.get(to);
    if (!pool) {
      const { host, port } = parseAddress(to);
      pool = new H1Pool({
        protocol: 'http:', hostname: host, port, name: to, connections: cfg.maxConnectionsPerOrigin,
        keepAliveTimeoutMs: cfg.keepAliveTimeoutMs, headersTimeoutMs: cfg.headersTimeoutMs, bodyTimeoutMs: cfg.bodyTimeoutMs,
        queueTimeoutMs: 0, maxHeaderBytes: UPSTREAM_MAX_HEADER_BYTES, connect,
      });
      pools.set(to, pool);
    }
    return pool;
  };
  return {
    send(flow, ctx): Promise<UpstreamResponse> {
      const route = routes.match(flow.request.url);
      if (route === undefined) return fallback.send(flow, ctx);
      flow.notes.upstream = route.to;
      return exchange(flow, {
        dispatcher: poolFor(route.to), clock: deps.clock, mapError: mapUpstreamError,
        headersTimeoutMs: cfg.headersTimeoutMs, bodyTimeoutMs: cfg.bodyTimeoutMs,
        headers: upstreamHeaders(flow.request.headers, flow.request.url.host, flow.requestBody !== null),
      });
    },
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.close()));
      await fallback.close?.();
    },
  };
}
