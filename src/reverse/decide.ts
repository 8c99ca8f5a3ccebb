import type { Random } from '../core/clock.js';
import type { RawHeaders } from '../core/flow.js';
import { cookieValue, headerValue } from '../upstream/hash-key.js';
import { canaryDecision } from './canary.js';
import { matchRoute, rewritePath, type CompiledRoute, type RouteSpec } from './routes.js';

export interface RouteInput {
  readonly host: string;
  readonly path: string;
  readonly method: string;
  readonly headers: RawHeaders;
  readonly clientIp: string;
}

export interface RouteDecision {
  readonly route: string;
  readonly spec: RouteSpec;
  readonly pool: string;
  /** The path after strip-prefix. */
  readonly path: string;
  readonly why: string;
}

function stickyKey(source: string | undefined, input: RouteInput): string | undefined {
  if (source === undefined) return undefined;
  if (source === 'ip') return input.clientIp;
  const [kind, name = ''] = source.split(':', 2);
  return kind === 'cookie' ? cookieValue(input.headers, name) : headerValue(input.headers, name);
}

/** Pure routing decision shared by the route stage and `portico route test`: route, pool (canary applied), path. */
export function decideRoute(routes: readonly CompiledRoute[], input: RouteInput, random: Random): RouteDecision | undefined {
  const hit = matchRoute(routes, { host: input.host.toLowerCase(), path: input.path, method: input.method, headers: input.headers });
  if (hit === undefined) return undefined;
  const spec = hit.spec;
  let pool = spec.pool;
  let why = hit.because;
  if (spec.canary !== undefined) {
    const c = canaryDecision({ ...spec.canary, ...(spec.canary.sticky === undefined ? {} : { stickyKey: spec.canary.sticky }) }, {
      override: headerValue(input.headers, spec.canary.overrideHeader), key: stickyKey(spec.canary.sticky, input), random,
    });
    if (c.canary) pool = spec.canary.pool;
    why += `; ${c.why}`;
  }
  return { route: spec.id, spec, pool, path: rewritePath(input.path, hit.strip), why };
}
