import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import { createEventBus, type EventBus } from '../core/events.js';
import { createIdGenerator } from '../core/ids.js';
import { Pipeline } from '../core/pipeline.js';
import { recordOptions } from '../core/record-headers.js';
import { CONTINUE, type Stage } from '../core/stage.js';
import { Drain } from '../forward/drain.js';
import { createFlow, rejectExchange, runExchange, type ExchangeDeps } from '../forward/exchange.js';
import { clientError, shutdown } from '../forward/lifecycle.js';
import { formatAuthority } from '../forward/target.js';
import { forwardedStage } from '../stages/forwarded.js';
import type { BackendPool } from '../upstream/backend-pool.js';
import { BalancedUpstream } from '../upstream/balanced.js';
import { trustedProxies, withForwarding } from './client-headers.js';
import type { ReverseConfig } from './config.js';
import { buildPools } from './pools.js';
import { routeStage } from './route-stage.js';
import { compileRoutes } from './compile.js';
import { reverseUpgradeHandler } from './upgrade.js';

export interface ReverseProxy {
  readonly url: string;
  readonly port: number;
  readonly bus: EventBus;
  readonly pools: ReadonlyMap<string, BackendPool>;
  stats(): { inFlight: number };
  close(graceMs?: number): Promise<void>;
}

export interface ReverseDeps { log: Logger; clock?: Clock; random?: Random; bus?: EventBus }

/** The X-Forwarded-* / Forwarded stage: trusted peers' chains are extended, everyone else's replaced. */
function clientHeadersStage(trusted: (ip: string) => boolean): Stage {
  return {
    name: 'client-headers',
    onRequest(flow) {
      flow.request.headers = withForwarding(flow.request.headers,
        { ip: flow.client.ip, proto: flow.request.url.protocol === 'https:' ? 'https' : 'http', host: flow.request.url.host },
        trusted(flow.client.ip));
      return CONTINUE;
    },
  };
}

/** The reverse proxy / L7 balancer front door: node:http → pipeline (forwarded, client headers, route) → balanced pools. */
export async function startReverse(config: ReverseConfig, deps: ReverseDeps): Promise<ReverseProxy> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? systemRandom;
  const log = deps.log;
  const bus = deps.bus ?? createEventBus((err) => log.error({ err }, 'event subscriber failed'));
  const pools = buildPools(config.pools, { clock, random, bus });
  const routes = compileRoutes(config);
  const upstream = new BalancedUpstream({ clock, random, pools, defaultPool: Object.keys(config.pools)[0] as string });
  const trusted = trustedProxies(config.trustedProxies);
  const stages: Stage[] = [
    forwardedStage({ via: config.via }), clientHeadersStage(trusted),
    routeStage({ routes: () => routes, random, exposeBackend: config.exposeBackend }),
  ];
  const pipeline = new Pipeline(stages, upstream, { clock, log }, bus, recordOptions(config.log));
  const exchangeDeps: ExchangeDeps = { clock, nextId: createIdGenerator(), pipeline, mode: 'reverse' };
  const drain = new Drain();
  const server = createServer({
    maxHeaderSize: config.server.maxHeaderBytes, requestTimeout: config.server.requestTimeoutMs,
    headersTimeout: config.server.headersTimeoutMs, keepAliveTimeout: config.server.keepAliveTimeoutMs,
  });
  const fallbackHost = formatAuthority(config.listen.host, config.listen.port);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    drain.begin();
    handle(req, res, exchangeDeps, fallbackHost).catch(() => res.destroy()).finally(() => drain.end());
  });
  const tunnels = new Set<Socket>();
  server.on('upgrade', reverseUpgradeHandler({
    clock, random, nextId: exchangeDeps.nextId, pipeline, pools, routes: () => routes, trusted, fallbackHost, tunnels,
    via: config.via.enabled ? config.via.pseudonym : undefined, idleTimeoutMs: config.server.tunnelIdleTimeoutMs,
  }));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => clientError(err, socket, log));
  server.listen(config.listen.port, config.listen.host);
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.listen.port;
  for (const pool of pools.values()) pool.start();
  const closers = [() => pipeline.close(), ...[...pools.values()].map((p) => () => p.close())];
  return {
    url: `http://${formatAuthority(config.listen.host, port)}`, port, bus, pools,
    stats: () => ({ inFlight: drain.inFlight }),
    close: (graceMs = config.shutdown.graceMs) => shutdown({ server, drain, blindTunnels: tunnels, interceptedTunnels: new Set(), closers }, graceMs),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ExchangeDeps, fallbackHost: string): Promise<void> {
  const target = req.url ?? '/';
  const host = req.headers.host ?? fallbackHost;
  let url: URL | undefined;
  try { url = target.startsWith('/') ? new URL(`http://${host}${target}`) : undefined; } catch { url = undefined; }
  const flow = createFlow(req, res, url ?? new URL('http://invalid.invalid/'), deps);
  if (url === undefined) return rejectExchange(flow, res, new ProxyError('BAD_REQUEST', `expected an origin-form target, got "${target}"`), deps);
  return runExchange(flow, res, deps);
}
