import { createServer, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import picomatch from 'picomatch';
import type { Logger } from 'pino';
import type { ForwardConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createEventBus, type EventBus } from '../core/events.js';
import { createIdGenerator } from '../core/ids.js';
import { Pipeline } from '../core/pipeline.js';
import type { Stage, Upstream } from '../core/stage.js';
import { accessStage, createAccessControl } from '../stages/access.js';
import { forwardedStage } from '../stages/forwarded.js';
import { createCacheStage } from '../stages/cache-setup.js';
import type { PurgePlan } from '../cache/purge.js';
import { caPageRoutes } from './ca-page.js';
import { ensureCa, loadCa, type CaMaterial } from '../tls/ca.js';
import { CertificateIssuer } from '../tls/issuer.js';
import { createOriginUpstream, upstreamSecureContext } from '../upstream/origin.js';
import { createParentProxyUpstream } from '../upstream/parent-proxy.js';
import { createTargetGuard } from '../upstream/target-guard.js';
import { dialTunnel } from '../upstream/tunnel-dial.js';
import { createConnectHandler } from './connect.js';
import { createContentPolicy } from './content-policy.js';
import { Drain } from './drain.js';
import { createRequestHandler } from './http-handler.js';
import { createLocalRoutes } from './local-routes.js';
import { createInterceptor } from './mitm.js';
import { formatAuthority } from './target.js';
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
  /** Stop accepting, let in-flight exchanges finish within graceMs, then close everything. */
  close(graceMs?: number): Promise<void>;
}

export interface ForwardDeps { log: Logger; clock?: Clock; bus?: EventBus }

export async function startForward(config: ForwardConfig, deps: ForwardDeps): Promise<ForwardProxy> {
  const clock = deps.clock ?? systemClock;
  const bus = deps.bus ?? createEventBus((err) => deps.log.error({ err }, 'event subscriber failed'));
  const log = deps.log;
  const nextId = createIdGenerator();
  const selfAddresses = [{ host: config.listen.host, port: config.listen.port }];
  const guard = createTargetGuard({ allow: [...config.targets.allow], selfAddresses });
  const access = await createAccessControl(config.access, { clock });
  const upstream: Upstream = config.upstream.proxy
    ? createParentProxyUpstream(new URL(config.upstream.proxy), config.upstream, { guard, clock })
    : createOriginUpstream(config.upstream, { guard, clock });
  const content = await createContentPolicy(config, { log, bus, clock });
  const cache = await createCacheStage(config.cache, { clock, log, upstream });
  const stages: Stage[] = [accessStage(access), ...content.stages, ...(cache ? [cache.stage] : []), forwardedStage({ via: config.via })];
  const pipeline = new Pipeline(stages, upstream, { clock, log }, bus);
  const ca = config.mitm.enabled ? await ensureCa(config.certs) : await loadCa(config.certs).catch(() => undefined);
  for (const warning of ca?.warnings ?? []) log.warn({ certs: config.certs }, warning);
  const drain = new Drain();
  const blindTunnels = new Set<Socket>();
  const interceptedTunnels = new Set<Socket>();
  const parentProxy = config.upstream.proxy ? new URL(config.upstream.proxy) : undefined;
  const dial = (target: { host: string; port: number }, signal: AbortSignal): Promise<Socket> =>
    dialTunnel(target, { guard, connectTimeoutMs: config.tunnel.connectTimeoutMs, signal, ...(parentProxy ? { parentProxy } : {}) });
  const serverOptions: ServerOptions = {
    maxHeaderSize: config.server.maxHeaderBytes,
    requestTimeout: config.server.requestTimeoutMs,
    headersTimeout: config.server.headersTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    insecureHTTPParser: false,
  };
  const upstreamTls = upstreamSecureContext(config.upstream.ca);
  const onUpgrade = createUpgradeHandler({
    clock, log, nextId, pipeline, access, dial, tunnels: blindTunnels, idleTimeoutMs: config.tunnel.idleTimeoutMs,
    tls: { rejectUnauthorized: !config.upstream.insecure, secureContext: upstreamTls },
    viaToken: config.via.enabled ? config.via.pseudonym : undefined,
  });
  const tlsServer = internalServer(serverOptions, onUpgrade);
  const plainServer = internalServer(serverOptions, onUpgrade);
  const issuer = ca && config.mitm.enabled
    ? new CertificateIssuer(ca, { cacheSize: config.mitm.certCacheSize, validityDays: config.mitm.leafValidityDays, clock, log: (msg: string, err?: unknown) => log.warn({ err }, msg) })
    : undefined;
  const bypass = config.mitm.bypass.length > 0 ? picomatch([...config.mitm.bypass], { nocase: true }) : () => false;
  const intercept = issuer
    ? createInterceptor({ clock, log, bus, certificates: issuer, tlsServer, plainServer, handshakeTimeoutMs: config.tunnel.handshakeTimeoutMs, tunnels: interceptedTunnels })
    : () => undefined;
  const server = createServer(serverOptions);
  server.maxConnections = config.server.maxConnections;
  server.on('connect', createConnectHandler({
    clock, log, bus, nextId, access, guard, dial, intercept, tunnels: blindTunnels,
    connectPorts: new Set(config.connectPorts), idleTimeoutMs: config.tunnel.idleTimeoutMs,
    shouldIntercept: (host) => issuer !== undefined && !bypass(host), policy: content.connect,
  }));
  server.on('upgrade', onUpgrade);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => clientError(err, socket, log));
  server.listen(config.listen.port, config.listen.host);
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  selfAddresses.push({ host: config.listen.host, port });
  const authority = formatAuthority(config.listen.host, port);
  const onRequest = createRequestHandler({
    clock, nextId, pipeline, listen: authority, track: drain,
    local: createLocalRoutes(ca ? caPageRoutes(ca) : undefined),
    clientAllowed: (ip: string) => access.clientAllowed(ip),
  });
  for (const s of [server, tlsServer, plainServer]) s.on('request', onRequest);
  return {
    host: config.listen.host, port, url: `http://${authority}`, bus, ca, reloadPolicy: () => content.source.reload('SIGHUP'),
    purgeCache: (plan) => cache?.purge(plan) ?? Promise.resolve(0),
    close: (graceMs = config.shutdown.graceMs) => {
      content.source.close();
      return shutdown({ server, tlsServer, plainServer, drain, blindTunnels, interceptedTunnels, pipeline }, graceMs);
    },
  };
}

/** Never listens: fed with decrypted (or plain) tunnel connections by forward/mitm.ts. */
function internalServer(options: ServerOptions, onUpgrade: ReturnType<typeof createUpgradeHandler>): Server {
  const server = createServer(options);
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_err, socket: Socket) => socket.destroy());
  return server;
}

/** Malformed requests get 400 and the connection closes; header overflows 431; nothing crashes. */
function clientError(err: NodeJS.ErrnoException, socket: Socket, log: Logger): void {
  log.debug({ code: err.code, err: err.message }, 'client error');
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  const body = `${status}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

interface Running {
  server: Server; tlsServer: Server; plainServer: Server; drain: Drain;
  blindTunnels: Set<Socket>; interceptedTunnels: Set<Socket>; pipeline: Pipeline;
}

async function shutdown(r: Running, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => r.server.close(() => resolve()));
  r.server.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  await r.drain.idle(graceMs);
  for (const s of r.interceptedTunnels) s.destroy();
  while (r.blindTunnels.size > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  for (const s of r.blindTunnels) s.destroy();
  r.server.closeAllConnections();
  await closed;
  await r.pipeline.close();
}
