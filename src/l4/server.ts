import type { Logger } from 'pino';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import { createEventBus, type EventBus } from '../core/events.js';
import { createIdGenerator } from '../core/ids.js';
import { cidrList, defaultPoolOf, idleTimeoutOf, type L4Config, type L4ListenerConfig } from './config.js';
import { L4Pool } from './pool.js';
import { compileSniRoutes } from './routes.js';
import { TcpListener, type ListenerDeps, type ListenerRoutes } from './tcp.js';
import { UdpListener } from './udp.js';

export interface L4Balancer {
  readonly bus: EventBus;
  /** `tcp://HOST:PORT` / `udp://HOST:PORT`, one per listener, in config order. */
  urls(): string[];
  /** Pool state for /upstreams. */
  snapshot(): Array<Record<string, unknown>>;
  /** Open connections and UDP sessions. */
  active(): number;
  /**
   * Applies a new config without dropping established connections: listeners with the same protocol and address
   * keep their socket and route new connections by the new config; removed ones drain; pools keep health and stick
   * entries of same-named pools.
   */
  reload(config: L4Config): Promise<void>;
  close(graceMs?: number): Promise<void>;
}

export interface L4Deps {
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly bus?: EventBus;
  /** TCP listeners' raw-handle fast path (see ListenerDeps.fastPath); false forces net.Socket everywhere. */
  readonly fastPath?: boolean;
}

type Listener = TcpListener | UdpListener;

/** A listener's identity across reloads: protocol and address (port 0, "any free port", by its position). */
const keyOf = (l: L4ListenerConfig, i: number): string => `${l.protocol}://${l.listen.host}:${l.listen.port}${l.listen.port === 0 ? `#${i}` : ''}`;

function buildPools(config: L4Config, deps: { clock: Clock; random: Random; bus: EventBus }, old?: ReadonlyMap<string, L4Pool>): Map<string, L4Pool> {
  const pools = new Map<string, L4Pool>();
  const now = deps.clock.monotonic();
  for (const [name, p] of Object.entries(config.pools)) {
    const pool = new L4Pool(name, p, deps);
    const prev = old?.get(name);
    if (prev !== undefined) pool.inherit(prev, now);
    pools.set(name, pool);
  }
  return pools;
}

function routesFor(l: L4ListenerConfig, config: L4Config, pools: ReadonlyMap<string, L4Pool>): ListenerRoutes {
  const defaultPool = defaultPoolOf(l, config);
  return {
    config: l, pools, defaultPool, idleTimeoutMs: idleTimeoutOf(l),
    router: l.sni === undefined ? undefined : compileSniRoutes(l.sni, defaultPool),
    trusted: l.acceptProxyProtocol === undefined ? undefined : cidrList(l.acceptProxyProtocol.trusted),
  };
}

/** Starts every listener and pool of an L4 config (the `portico l4` front door). */
export async function startL4(config: L4Config, deps: L4Deps): Promise<L4Balancer> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? systemRandom;
  const bus = deps.bus ?? createEventBus((err) => deps.log.error({ err }, 'event subscriber failed'));
  const poolDeps = { clock, random, bus };
  const ldeps: ListenerDeps = { clock, bus, nextId: createIdGenerator(), log: deps.log, ...(deps.fastPath === undefined ? {} : { fastPath: deps.fastPath }) };
  let current = config;
  let pools = buildPools(config, poolDeps);
  const listeners = new Map<string, Listener>();
  const open = async (l: L4ListenerConfig, i: number): Promise<void> => {
    const routes = routesFor(l, current, pools);
    const listener = l.protocol === 'udp' ? new UdpListener(routes, ldeps) : new TcpListener(routes, ldeps);
    await listener.listen();
    listeners.set(keyOf(l, i), listener);
  };
  try {
    for (const [i, l] of config.listeners.entries()) await open(l, i);
  } catch (err) {
    await Promise.all([...listeners.values()].map((x) => x.close(0)));
    throw err;
  }
  for (const p of pools.values()) p.start();
  const ticker = setInterval(() => { for (const p of pools.values()) p.tick(clock.monotonic()); }, 1000);
  ticker.unref();
  const retire = (old: Iterable<L4Pool>): Promise<unknown> => Promise.all([...old].map((p) => p.close()));
  return {
    bus,
    urls: () => [...listeners.values()].map((l) => l.url),
    snapshot: () => [...pools.values()].map((p) => p.snapshot(clock.monotonic())),
    active: () => [...listeners.values()].reduce((n, l) => n + l.active, 0),
    reload: async (next) => {
      const oldPools = pools;
      const nextPools = buildPools(next, poolDeps, oldPools);
      const wanted = new Set(next.listeners.map((l, i) => keyOf(l, i)));
      const gone = [...listeners].filter(([k]) => !wanted.has(k));
      current = next;
      pools = nextPools;
      for (const [k, l] of gone) { listeners.delete(k); void l.close(next.shutdown.graceMs); }
      for (const [i, l] of next.listeners.entries()) {
        const existing = listeners.get(keyOf(l, i));
        if (existing !== undefined) existing.update(routesFor(l, next, nextPools));
        else await open(l, i);
      }
      for (const p of nextPools.values()) p.start();
      await retire(oldPools.values()); // their checkers stop; connections on them keep running
    },
    close: async (graceMs = current.shutdown.graceMs) => {
      clearInterval(ticker);
      for (const p of pools.values()) p.warm?.close(); // no client will come for them: gone before the drain wait
      await Promise.all([...listeners.values()].map((l) => l.close(graceMs)));
      await retire(pools.values());
    },
  };
}
