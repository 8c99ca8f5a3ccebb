import type { Logger } from 'pino';
import type { ForwardConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { Pipeline } from '../core/pipeline.js';
import { recordOptions } from '../core/record-headers.js';
import type { Stage, Upstream } from '../core/stage.js';
import { accessStage, createAccessControl, type AccessControl } from '../stages/access.js';
import { createCacheStage } from '../stages/cache-setup.js';
import { forwardedStage } from '../stages/forwarded.js';
import { requestIdStage } from '../stages/request-id.js';
import { createOriginUpstream } from '../upstream/origin.js';
import { createParentProxyUpstream } from '../upstream/parent-proxy.js';
import { createRoutedUpstream } from '../upstream/routed.js';
import { createTargetGuard, type TargetGuard } from '../upstream/target-guard.js';
import { createContentPolicy, type ContentPolicy } from './content-policy.js';
import { compileForwardRoutes } from './routes.js';

export interface ForwardPipeline {
  readonly pipeline: Pipeline;
  readonly access: AccessControl;
  readonly guard: TargetGuard;
  readonly content: ContentPolicy;
  readonly cache: Awaited<ReturnType<typeof createCacheStage>>;
  /** The proxy's own addresses (the SSRF guard refuses them); the real port is added once listening. */
  readonly selfAddresses: Array<{ host: string; port: number }>;
}

/** The forward mode's stage list in DESIGN order: request-id ▶ access ▶ policy ▶ anonymize ▶ cache ▶ forwarded ▶ upstream. */
export async function buildForwardPipeline(config: ForwardConfig, deps: { log: Logger; clock: Clock; bus: EventBus }): Promise<ForwardPipeline> {
  const { log, clock, bus } = deps;
  const selfAddresses = [{ host: config.listen.host, port: config.listen.port }];
  const guard = createTargetGuard({ allow: [...config.targets.allow], selfAddresses });
  const access = await createAccessControl(config.access, { clock });
  const origin: Upstream = config.upstream.proxy
    ? createParentProxyUpstream(new URL(config.upstream.proxy), config.upstream, { guard, clock })
    : createOriginUpstream(config.upstream, { guard, clock });
  const routes = compileForwardRoutes(config.routes);
  const upstream = routes.size > 0 ? createRoutedUpstream(routes, origin, config.upstream, { clock }) : origin;
  const addId = config.requestId.add;
  const requestId = requestIdStage({
    header: config.requestId.header,
    add: addId === 'always' ? () => true : addId === 'never' ? () => false : (flow) => routes.match(flow.request.url) !== undefined,
  });
  const content = await createContentPolicy(config, { log, bus, clock });
  const cache = await createCacheStage(config.cache, { clock, log, upstream });
  const stages: Stage[] = [
    requestId, accessStage(access), ...content.stages, ...(cache ? [cache.stage] : []), forwardedStage({ via: config.via }),
  ];
  const pipeline = new Pipeline(stages, upstream, { clock, log }, bus, recordOptions(config.log));
  return { pipeline, access, guard, content, cache, selfAddresses };
}
