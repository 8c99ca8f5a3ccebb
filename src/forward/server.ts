import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { PurgePlan } from '../cache/purge.js';
import type { ForwardConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createEventBus, type EventBus } from '../core/events.js';
import { createIdGenerator } from '../core/ids.js';
import type { RejectReason } from '../core/rejections.js';
import type { CaMaterial } from '../tls/ca.js';
import { upstreamSecureContext } from '../upstream/origin.js';
import type { TargetGuard } from '../upstream/target-guard.js';
import { dialTunnel } from '../upstream/tunnel-dial.js';
import { caPageRoutes } from './ca-page.js';
import { createConnectHandler } from './connect.js';
import { Drain } from './drain.js';
import { FrontDoor, frontDoorServerOptions } from './front-door.js';
import { buildForwardPipeline } from './forward-pipeline.js';
import { createRequestHandler } from './http-handler.js';
import { buildInterception } from './interception.js';
import { shutdown } from './lifecycle.js';
import { createLocalRoutes } from './local-routes.js';
import { ExpressFront } from '../reverse/express/front.js';
import type { TunnelDialer } from './ports.js';
import { absoluteFormTarget, formatAuthority } from './target.js';
import { createUpgradeHandler } from './upgrade.js';

export interface ForwardProxy {
  readonly host: string;
  readonly port: number;
  /** http://host:port of the listening proxy. */
  readonly url: string;
  readonly bus: EventBus;
  readonly ca: CaMaterial | undefined;
  /** Reloads the rules folder (SIGHUP); the old policy stays when a file is broken. */
  reloadPolicy(): Promise<boolean>;
  /** Removes cache entries (cache/purge.ts purgePlan); what the admin endpoint's purge call will use. 0 when off. */
  purgeCache(plan: PurgePlan): Promise<number>;
  /** Exchanges in progress and open CONNECT tunnels (blind and intercepted), for the admin endpoint's gauges. */
  stats(): { inFlight: number; tunnels: number };
  /** Connections and requests refused at the front door (limits, malformed heads), by reason (for /metrics). */
  rejections(): ReadonlyMap<RejectReason, number>;
  /** Stop accepting, let in-flight exchanges finish within graceMs, then close everything. */
  close(graceMs?: number): Promise<void>;
}

export interface ForwardDeps { log: Logger; clock?: Clock; bus?: EventBus }

export async function startForward(config: ForwardConfig, deps: ForwardDeps): Promise<ForwardProxy> {
  const clock = deps.clock ?? systemClock;
  const bus = deps.bus ?? createEventBus((err) => deps.log.error({ err }, 'event subscriber failed'));
  const log = deps.log;
  const nextId = createIdGenerator();
  const fp = await buildForwardPipeline(config, { log, clock, bus });
  const { pipeline, access, guard, content, cache } = fp;
  const drain = new Drain();
  const blindTunnels = new Set<Socket>();
  const interceptedTunnels = new Set<Socket>();
  const dial = tunnelDialer(config, guard);
  const limits = { ...config.server, maxTunnels: config.tunnel.maxTunnels, maxTunnelsPerClient: config.tunnel.maxTunnelsPerClient };
  const door = new FrontDoor(limits, log);
  const options = frontDoorServerOptions(limits);
  const onUpgrade = createUpgradeHandler({
    clock, log, nextId, pipeline, access, dial, tunnels: blindTunnels, idleTimeoutMs: config.tunnel.idleTimeoutMs,
    tls: { rejectUnauthorized: !config.upstream.insecure, secureContext: upstreamSecureContext(config.upstream.ca) },
    viaToken: config.via.enabled ? config.via.pseudonym : undefined,
  });
  const tlsServer = internalServer(options, onUpgrade, door);
  const plainServer = internalServer(options, onUpgrade, door);
  const mitm = await buildInterception(config, { log, clock, bus, tlsServer, plainServer, tunnels: interceptedTunnels });
  const server = createServer(options);
  door.attach(server);
  const onConnect = createConnectHandler({
    clock, log, bus, nextId, access, guard, dial, intercept: mitm.intercept, tunnels: blindTunnels,
    connectPorts: new Set(config.connectPorts), idleTimeoutMs: config.tunnel.idleTimeoutMs,
    shouldIntercept: mitm.shouldIntercept, policy: content.connect, admitTunnel: (ip, socket) => door.admitTunnel(ip, socket),
  });
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!door.screenRaw(req, socket)) onConnect(req, socket, head);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!door.screenRaw(req, socket)) onUpgrade(req, socket, head);
  });
  server.listen(config.listen.port, config.listen.host);
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  fp.selfAddresses.push({ host: config.listen.host, port });
  const authority = formatAuthority(config.listen.host, port);
  const onRequest = createRequestHandler({
    clock, nextId, pipeline, listen: authority, track: drain,
    local: createLocalRoutes(mitm.ca ? caPageRoutes(mitm.ca) : undefined),
    clientAllowed: (ip: string) => access.clientAllowed(ip),
  });
  for (const s of [server, tlsServer, plainServer]) {
    s.maxHeadersCount = config.server.maxHeaderCount + 1;
    s.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!door.screen(req, res)) onRequest(req, res);
    });
  }
  const closers = [() => content.source.close(), () => pipeline.close(), () => mitm.issuer?.close()];
  if (config.server.engine === 'express' && ExpressFront.available) {
    // Body-less absolute-form requests on the proxy's own port; CONNECT, bodies, local pages and the rest go to node:http.
    const express = new ExpressFront({ door, clock, limits, target: absoluteFormTarget, drain, exchangeDeps: () => ({ clock, nextId, pipeline }) });
    express.attach(server);
    closers.unshift(() => express.close());
  }
  return {
    host: config.listen.host, port, url: `http://${authority}`, bus, ca: mitm.ca,
    reloadPolicy: () => content.source.reload('SIGHUP'),
    purgeCache: (plan) => cache?.purge(plan) ?? Promise.resolve(0),
    stats: () => ({ inFlight: drain.inFlight, tunnels: blindTunnels.size + interceptedTunnels.size }),
    rejections: () => door.rejections.snapshot(),
    close: (graceMs = config.shutdown.graceMs) => shutdown({ server, drain, blindTunnels, interceptedTunnels, closers }, graceMs),
  };
}

function tunnelDialer(config: ForwardConfig, guard: TargetGuard): TunnelDialer {
  const parentProxy = config.upstream.proxy ? new URL(config.upstream.proxy) : undefined;
  return (target, signal) =>
    dialTunnel(target, { guard, connectTimeoutMs: config.tunnel.connectTimeoutMs, signal, ...(parentProxy ? { parentProxy } : {}) });
}

/** Never listens: fed with decrypted (or plain) tunnel connections by forward/mitm.ts. */
function internalServer(options: ServerOptions, onUpgrade: ReturnType<typeof createUpgradeHandler>, door: FrontDoor): Server {
  const server = createServer(options);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!door.screenRaw(req, socket)) onUpgrade(req, socket, head);
  });
  door.answerParseErrors(server);
  return server;
}
