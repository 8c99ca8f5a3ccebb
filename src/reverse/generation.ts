import type { Logger } from 'pino';
import type { Clock, Random } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { Pipeline } from '../core/pipeline.js';
import { recordOptions } from '../core/record-headers.js';
import { CONTINUE, type Stage } from '../core/stage.js';
import { forwardedStage } from '../stages/forwarded.js';
import { requestIdStage } from '../stages/request-id.js';
import { BackendPool } from '../upstream/backend-pool.js';
import { BalancedUpstream } from '../upstream/balanced.js';
import { noteRealIp, trustedProxies, withForwarding } from './client-headers.js';
import { compileRoutes } from './compile.js';
import type { ReverseConfig } from './config.js';
import { toPoolConfig } from './pools.js';
import { routeStage } from './route-stage.js';
import { buildRouteStages, closeAll, perRouteStage, type RouteStages } from './route-stages.js';
import type { CompiledRoute } from './routes.js';

/** Everything one configuration compiles into; a reload builds a new one and swaps a single reference. */
export interface Generation {
  readonly config: ReverseConfig;
  readonly pools: ReadonlyMap<string, BackendPool>;
  readonly routes: readonly CompiledRoute[];
  readonly pipeline: Pipeline;
  readonly trusted: (ip: string) => boolean;
  /** Each route's own stages (auth, rate limit, policy, cache). */
  readonly routeStages: RouteStages;
}

export interface GenerationDeps { readonly clock: Clock; readonly random: Random; readonly bus: EventBus; readonly log: Logger }

/** The X-Forwarded-* / Forwarded stage: trusted peers' chains are extended (and their client noted), everyone else's replaced. */
function clientHeadersStage(trusted: (ip: string) => boolean): Stage {
  return {
    name: 'client-headers',
    onRequest(flow) {
      const fromTrusted = noteRealIp(flow, trusted);
      flow.request.headers = withForwarding(flow.request.headers,
        { ip: flow.client.ip, proto: flow.request.url.protocol === 'https:' ? 'https' : 'http', host: flow.request.url.host },
        fromTrusted);
      return CONTINUE;
    },
  };
}

/**
 * Compiles a configuration. With a previous generation, a pool whose configuration is unchanged is reused as is
 * (connections, health, counters); a changed pool is rebuilt but inherits the health of backends it keeps.
 */
export function buildGeneration(config: ReverseConfig, deps: GenerationDeps, routeStages: RouteStages, prev?: Generation): { gen: Generation; retired: BackendPool[] } {
  const pools = new Map<string, BackendPool>();
  const reused = new Set<BackendPool>();
  for (const [name, p] of Object.entries(config.pools)) {
    const spec = toPoolConfig(name, p);
    const old = prev?.pools.get(name);
    if (old !== undefined && JSON.stringify(old.config) === JSON.stringify(spec)) {
      pools.set(name, old);
      reused.add(old);
      continue;
    }
    const pool = new BackendPool(spec, deps);
    if (old !== undefined) pool.health.inherit(old.health, deps.clock.monotonic());
    pools.set(name, pool);
  }
  const routes = compileRoutes(config);
  const trusted = trustedProxies(config.trustedProxies);
  const upstream = new BalancedUpstream({ clock: deps.clock, random: deps.random, pools, defaultPool: Object.keys(config.pools)[0] as string });
  routeStages.upstream.current = upstream;
  const stages: Stage[] = [
    // A request id from the client (or a forward proxy in front) is kept and passed to the backend; else this flow's.
    requestIdStage({ header: 'X-Request-Id', add: () => true }), forwardedStage({ via: config.via }), clientHeadersStage(trusted),
    routeStage({ routes: () => routes, random: deps.random, exposeBackend: config.exposeBackend }),
  ];
  if (routeStages.byRoute.size > 0) stages.push(perRouteStage(routeStages.byRoute));
  const pipeline = new Pipeline(stages, upstream, { clock: deps.clock, log: deps.log }, deps.bus, recordOptions(config.log));
  const retired = prev === undefined ? [] : [...prev.pools.values()].filter((p) => !reused.has(p));
  return { gen: { config, pools, routes, pipeline, trusted, routeStages }, retired };
}

/**
 * Compiles the next generation, route stages included (they load files and may connect to Redis, hence async). The
 * caller swaps it in, then calls `retire` to close what the previous generation no longer shares with it; or, when
 * the reload is refused after all (a listener could not be bound), `discard` to close what only the new one has.
 */
export async function nextGeneration(config: ReverseConfig, deps: GenerationDeps, prev?: Generation):
  Promise<{ gen: Generation; retire: () => Promise<void>; discard: () => Promise<void> }> {
  const rs = await buildRouteStages(config, deps, prev?.routeStages);
  const liveUpstream = rs.stages.upstream.current; // reused caches refresh through it until the swap
  let built: ReturnType<typeof buildGeneration>;
  try {
    built = buildGeneration(config, deps, rs.stages, prev);
  } catch (err) {
    const shared = new Set(prev?.routeStages.built.map((b) => b.stage));
    await closeAll(rs.stages.built.map((b) => b.stage).filter((s) => !shared.has(s)), deps.log);
    throw err;
  }
  const { gen, retired } = built;
  if (prev !== undefined) for (const pool of gen.pools.values()) if (![...prev.pools.values()].includes(pool)) pool.start();
  return {
    gen,
    // undici's Pool.close() lets queued and running requests finish before the connections close.
    retire: async () => {
      await Promise.all(retired.map((p) => p.close()));
      await closeAll(rs.retired, deps.log);
    },
    discard: async () => {
      rs.stages.upstream.current = liveUpstream;
      const kept = new Set(prev?.pools.values());
      await Promise.all([...gen.pools.values()].filter((p) => !kept.has(p)).map((p) => p.close()));
      const shared = new Set(prev?.routeStages.built.map((b) => b.stage));
      await closeAll(rs.stages.built.map((b) => b.stage).filter((s) => !shared.has(s)), deps.log);
    },
  };
}

/** Shutdown: the pipeline, every pool and every route stage of a generation. */
export async function closeGeneration(gen: Generation, log: Logger): Promise<void> {
  await gen.pipeline.close();
  await Promise.all([...gen.pools.values()].map((p) => p.close()));
  await closeAll(gen.routeStages.built.map((b) => b.stage), log);
}
