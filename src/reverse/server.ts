import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import { once } from '../core/once.js';
import type { RejectReason } from '../core/rejections.js';
import { createEventBus, type EventBus } from '../core/events.js';
import { createIdGenerator } from '../core/ids.js';
import { Drain } from '../forward/drain.js';
import { createFlow, exchange, rejectExchange, type ExchangeDeps } from '../forward/exchange.js';
import { FrontDoor, frontDoorServerOptions } from '../forward/front-door.js';
import { shutdown } from '../forward/lifecycle.js';
import { formatAuthority } from '../forward/target.js';
import type { BackendPool } from '../upstream/backend-pool.js';
import type { ReverseConfig } from './config.js';
import { closeGeneration, nextGeneration, type Generation } from './generation.js';
import type { ListenSpec } from './listen-schema.js';
import { originFormTarget } from './express/eligible.js';
import { ExpressFront } from './express/front.js';
import { ListenerSet } from './listeners.js';
import { reverseUpgradeHandler } from './upgrade.js';

export interface ReverseProxy {
  /** The first listener's URL and port. */
  readonly url: string;
  readonly port: number;
  /** Every listener (`listen:` entries), in order, as the last reload left them. */
  readonly listeners: ReadonlyArray<{ url: string; port: number; tls: boolean }>;
  readonly bus: EventBus;
  /** The current generation's pools. */
  pools(): ReadonlyMap<string, BackendPool>;
  /**
   * Applies a new configuration (server limits excepted; certificate files are read again) without dropping in-flight
   * requests: new listeners are bound first (any failure refuses the whole reload), new requests use the new pipeline
   * at once, removed listeners and replaced pools close once their requests are done (within the shutdown grace).
   */
  reload(config: ReverseConfig): Promise<void>;
  stats(): { inFlight: number };
  /** Connections and requests refused at the front door, by reason (for /metrics). */
  rejections(): ReadonlyMap<RejectReason, number>;
  close(graceMs?: number): Promise<void>;
}

export interface ReverseDeps { log: Logger; clock?: Clock; random?: Random; bus?: EventBus }

/** The reverse proxy / L7 balancer front door: node:http → pipeline (forwarded, client headers, route) → balanced pools. */
export async function startReverse(config: ReverseConfig, deps: ReverseDeps): Promise<ReverseProxy> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? systemRandom;
  const log = deps.log;
  const bus = deps.bus ?? createEventBus((err) => log.error({ err }, 'event subscriber failed'));
  const genDeps = { clock, random, bus, log };
  let current: Generation = (await nextGeneration(config, genDeps)).gen;
  const nextId = createIdGenerator();
  // Rebuilt when a reload swaps the generation, not per request.
  let exchangeDeps: ExchangeDeps = { clock, nextId, pipeline: current.pipeline, mode: 'reverse' };
  const drain = new Drain();
  const door = new FrontDoor(config.server, log);
  const primary = config.listen[0] as ListenSpec;
  const fallbackHost = formatAuthority(primary.host, primary.port);
  const tunnels = new Set<Socket>();
  const onUpgrade = reverseUpgradeHandler({
    clock, random, nextId, pipeline: () => current.pipeline, pools: () => current.pools, routes: () => current.routes,
    trusted: (ip) => current.trusted(ip), fallbackHost, tunnels,
    via: () => (current.config.via.enabled ? current.config.via.pseudonym : undefined), idleTimeoutMs: config.server.tunnelIdleTimeoutMs,
    routeStages: () => current.routeStages.byRoute, ctx: { clock, log },
  });
  const ended = (): void => drain.end();
  const express = config.server.engine === 'express' && ExpressFront.available
    ? new ExpressFront({ door, clock, limits: config.server, target: originFormTarget(fallbackHost), drain, exchangeDeps: () => exchangeDeps })
    : undefined;
  const setup = (server: Server): void => {
    door.attach(server);
    if (express !== undefined && !(server instanceof HttpsServer)) express.attach(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (door.screen(req, res)) return;
      drain.begin();
      // once(): the exchange's callback and a throw must not both count the request as done.
      const done = once(ended);
      try {
        handle(req, res, exchangeDeps, fallbackHost, done);
      } catch {
        res.destroy();
        done();
      }
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (!door.screenRaw(req, socket)) onUpgrade(req, socket, head);
    });
    // A failed TLS handshake (wrong protocol, no shared cipher, timeout) only concerns that connection.
    server.on('tlsClientError', (err: Error, socket: Socket) => {
      log.debug({ err: err.message, client: socket.remoteAddress }, 'TLS handshake failed');
      socket.destroy();
    });
  };
  let listeners: ListenerSet;
  try {
    listeners = await ListenerSet.start(config.listen, frontDoorServerOptions(config.server), setup, log);
  } catch (err) {
    await closeGeneration(current, log);
    throw err;
  }
  const first = listeners.current[0] as { url: string; port: number };
  for (const pool of current.pools.values()) pool.start();
  let reloading = Promise.resolve();
  const reload = async (next: ReverseConfig): Promise<void> => {
    const { gen, retire, discard } = await nextGeneration(next, genDeps, current);
    const change = await listeners.prepare(next.listen, next.shutdown.graceMs).catch(async (err: unknown) => { await discard(); throw err; });
    change.commit();
    current = gen;
    exchangeDeps = { ...exchangeDeps, pipeline: gen.pipeline };
    await retire();
  };
  return {
    url: first.url, port: first.port, bus,
    get listeners() { return listeners.current.map((l) => ({ url: l.url, port: l.port, tls: l.tls !== undefined })); },
    pools: () => current.pools,
    // One reload at a time (SIGHUP and a file change can come together): each plans against what the last applied.
    reload: (next) => {
      const run = reloading.then(() => reload(next));
      reloading = run.catch(() => undefined);
      return run;
    },
    stats: () => ({ inFlight: drain.inFlight }),
    rejections: () => door.rejections.snapshot(),
    close: (graceMs = config.shutdown.graceMs) => {
      // The other listeners stop accepting at once, like the first; the drain covers every listener's requests.
      const { first: server, closeOthers } = listeners.beginClose();
      return shutdown({
        server, drain, blindTunnels: tunnels, interceptedTunnels: new Set(),
        closers: [closeOthers, () => express?.close(), () => closeGeneration(current, log)],
      }, graceMs);
    },
  };
}

/**
 * A callback, not a promise (as the forward front door): the exchange builds no promise of its own and takes no
 * microtask hop per layer; `done` runs once the exchange is over, after its flow.end.
 */
function handle(req: IncomingMessage, res: ServerResponse, deps: ExchangeDeps, fallbackHost: string, done: () => void): void {
  const target = req.url ?? '/';
  const url = originFormUrl(req, target, fallbackHost);
  const flow = createFlow(req, res, url ?? new URL('http://invalid.invalid/'), deps);
  if (url !== undefined) return exchange(flow, res, deps, done);
  rejectExchange(flow, res, new ProxyError('BAD_REQUEST', `expected an origin-form target, got "${target}"`), deps).then(done, () => {
    res.destroy();
    done();
  });
}

/** The request's URL from an origin-form target and its Host (or the first listener's authority); undefined if neither parses. */
function originFormUrl(req: IncomingMessage, target: string, fallbackHost: string): URL | undefined {
  if (!target.startsWith('/')) return undefined;
  const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  try { return new URL(`${scheme}://${req.headers.host ?? fallbackHost}${target}`); } catch { return undefined; }
}
