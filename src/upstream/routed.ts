import { Pool } from 'undici';
import type { Clock } from '../core/clock.js';
import type { Upstream, UpstreamResponse } from '../core/stage.js';
import type { ForwardRoutes } from '../forward/routes.js';
import { exchange, upstreamHeaders } from './dispatch.js';
import { mapUpstreamError } from './errors.js';
import { keepAlive, type ClosableUpstream, type OriginConfig } from './origin.js';

/**
 * Sends requests whose host matches a forward route to the route's address (a keep-alive undici Pool per address,
 * capped like an origin), with the Host header unchanged, so a reverse proxy there sees `app.portico.test`. No DNS
 * and no SSRF guard: the address is configuration (forward/routes.ts says why). Everything else goes to `fallback`.
 */
export function createRoutedUpstream(routes: ForwardRoutes, fallback: Upstream, cfg: OriginConfig, deps: { clock: Clock }): ClosableUpstream {
  const pools = new Map<string, Pool>();
  const poolFor = (to: string): Pool => {
    let pool = pools.get(to);
    if (!pool) {
      pool = new Pool(`http://${to}`, {
        connections: cfg.maxConnectionsPerOrigin, ...keepAlive(cfg.keepAliveTimeoutMs),
        headersTimeout: cfg.headersTimeoutMs, bodyTimeout: cfg.bodyTimeoutMs, connect: { timeout: cfg.connectTimeoutMs },
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
