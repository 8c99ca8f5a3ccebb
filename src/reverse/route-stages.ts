import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { Flow } from '../core/flow.js';
import { CONTINUE, type Stage, type StageContext, type Upstream, type Verdict } from '../core/stage.js';
import { basicAuthStage } from '../gateway/basic-auth.js';
import { jwtAuthStage } from '../gateway/jwt-auth.js';
import { createRateLimitStage } from '../gateway/rate-limit-setup.js';
import { createCacheStage } from '../stages/cache-setup.js';
import { policyOptions } from '../policy/compile.js';
import { policyStage } from '../stages/policy.js';
import { createPolicySource } from '../stages/policy-source.js';
import type { ReverseConfig, ReverseRouteConfig } from './config.js';

export interface RouteStageDeps { readonly clock: Clock; readonly log: Logger; readonly bus: EventBus }

/** A built stage and, for stages worth keeping across reloads (cache contents, buckets), what it was built from. */
interface Built { readonly reuseKey: string | undefined; readonly stage: Stage }

/** Every route's own stages (lb.yaml `rateLimit`, `auth`, `policy`, `cache`), in that order, compiled once per config. */
export interface RouteStages {
  readonly byRoute: ReadonlyMap<string, readonly Stage[]>;
  readonly built: readonly Built[];
  /** The live generation's upstream, for the cache's background refreshes (reused caches outlive a generation). */
  readonly upstream: { current: Upstream | undefined };
}

export const routeIdOf = (r: ReverseRouteConfig, i: number): string => r.id ?? `route-${i + 1}`;

/**
 * Builds the per-route stages. Cache and rate-limit stages whose route id and section are unchanged are reused from
 * `prev` (a reload keeps cached entries and buckets); auth and policy are rebuilt, so a reload re-reads their files.
 * Returns the stages of `prev` that are no longer used, for the caller to close. On a failure nothing built leaks.
 */
export async function buildRouteStages(config: ReverseConfig, deps: RouteStageDeps, prev?: RouteStages): Promise<{ stages: RouteStages; retired: Stage[] }> {
  const upstream = prev?.upstream ?? { current: undefined };
  const old = new Map<string, Stage>();
  for (const b of prev?.built ?? []) if (b.reuseKey !== undefined) old.set(b.reuseKey, b.stage);
  const built: Built[] = [];
  const byRoute = new Map<string, Stage[]>();
  try {
    for (const [i, route] of config.routes.entries()) {
      const id = routeIdOf(route, i);
      const list: Stage[] = [];
      for (const part of await routeParts(id, route, deps, upstream, old)) {
        built.push(part);
        list.push(part.stage);
      }
      if (list.length > 0) byRoute.set(id, list);
    }
  } catch (err) {
    await closeAll(built.filter((b) => ![...old.values()].includes(b.stage)).map((b) => b.stage), deps.log);
    throw err;
  }
  const kept = new Set(built.map((b) => b.stage));
  const retired = (prev?.built ?? []).map((b) => b.stage).filter((s) => !kept.has(s));
  return { stages: { byRoute, built, upstream }, retired };
}

async function routeParts(id: string, route: ReverseRouteConfig, deps: RouteStageDeps, upstream: RouteStages['upstream'],
  old: ReadonlyMap<string, Stage>): Promise<Built[]> {
  const out: Built[] = [];
  const reuse = async (kind: string, section: unknown, make: () => Stage | Promise<Stage>): Promise<void> => {
    const reuseKey = `${kind} ${id} ${JSON.stringify(section)}`;
    out.push({ reuseKey, stage: old.get(reuseKey) ?? await make() });
  };
  if (route.rateLimit !== undefined) await reuse('rateLimit', route.rateLimit, () => createRateLimitStage(id, route.rateLimit!, deps));
  const auth = route.auth;
  if (auth?.type === 'basic') out.push({ reuseKey: undefined, stage: await basicAuthStage(auth, deps) });
  if (auth?.type === 'jwt') out.push({ reuseKey: undefined, stage: await jwtAuthStage(auth, deps) });
  if (route.policy !== undefined) out.push({ reuseKey: undefined, stage: await routePolicy(route.policy, deps) });
  const cache = route.cache;
  if (cache !== undefined && cache.store !== 'off') {
    await reuse('cache', cache, async () => {
      const routed: Upstream = {
        send: (flow, ctx) => {
          if (upstream.current === undefined) throw new Error('no upstream bound yet');
          flow.notes.pool = route.pool;
          return upstream.current.send(flow, ctx);
        },
      };
      const cfg = { ...cache, redis: { ...cache.redis, namespace: `${cache.redis.namespace}${id}:` } };
      const handle = await createCacheStage(cfg, { clock: deps.clock, log: deps.log, upstream: routed });
      if (handle === undefined) throw new Error(`route ${id}: cache store ${cache.store} could not be created`);
      return handle.stage;
    });
  }
  return out;
}

async function routePolicy(p: NonNullable<ReverseRouteConfig['policy']>, deps: RouteStageDeps): Promise<Stage> {
  const source = await createPolicySource({
    dir: p.rules, watch: p.watch, debounceMs: p.reloadDebounceMs,
    options: policyOptions(p),
  }, deps);
  const stage = policyStage(source);
  return { ...stage, close: async () => { source.close(); } };
}

export async function closeAll(stages: readonly Stage[], log: Logger): Promise<void> {
  await Promise.all(stages.map((s) => s.close?.().catch((err: unknown) => log.warn({ err, stage: s.name }, 'closing a route stage failed'))));
}

interface Ran { readonly stages: readonly Stage[]; n: number }

/**
 * The pipeline stage that runs the matched route's own stages with the pipeline's rules (fastify's encapsulation):
 * onRequest in order until one answers, onResponse in reverse for each whose onRequest ran. Sync stays sync.
 */
export function perRouteStage(byRoute: ReadonlyMap<string, readonly Stage[]>): Stage {
  const ran = new WeakMap<Flow, Ran>();
  return {
    name: 'route-stages',
    onRequest(flow, ctx) {
      const stages = flow.notes.route === undefined ? undefined : byRoute.get(flow.notes.route);
      if (stages === undefined) return CONTINUE;
      const state: Ran = { stages, n: 0 };
      ran.set(flow, state);
      return runFrom(flow, ctx, state);
    },
    onResponse(flow, ctx) {
      const state = ran.get(flow);
      if (state === undefined) return undefined;
      ran.delete(flow);
      return respond(flow, ctx, state, state.n - 1, undefined);
    },
  };
}

function runFrom(flow: Flow, ctx: StageContext, state: Ran): Verdict | Promise<Verdict> {
  while (state.n < state.stages.length) {
    const stage = state.stages[state.n++] as Stage;
    if (!stage.onRequest) continue;
    const v = stage.onRequest(flow, ctx);
    if (v instanceof Promise) return v.then((x) => (x.kind === 'continue' ? runFrom(flow, ctx, state) : x));
    if (v.kind !== 'continue') return v;
  }
  return CONTINUE;
}

/** Runs onResponse from index i down; every stage runs even if one fails, and the first failure is rethrown. */
function respond(flow: Flow, ctx: StageContext, state: Ran, i: number, failed: unknown): void | Promise<void> {
  for (; i >= 0; i--) {
    const stage = state.stages[i] as Stage;
    if (!stage.onResponse) continue;
    try {
      const done = stage.onResponse(flow, ctx);
      if (done instanceof Promise) {
        const next = i - 1;
        return done.then(() => respond(flow, ctx, state, next, failed), (err: unknown) => respond(flow, ctx, state, next, failed ?? err));
      }
    } catch (err) {
      failed ??= err;
    }
  }
  if (failed !== undefined) throw failed;
}
