import type { ReverseConfig } from './config.js';
import { compileRoute, type CompiledRoute, type RouteSpec } from './routes.js';

/** lb.yaml routes compiled once; without routes every request goes to the first pool. */
export function compileRoutes(config: Pick<ReverseConfig, 'routes' | 'pools'>): CompiledRoute[] {
  if (config.routes.length === 0) return [compileRoute({ id: 'default', pool: Object.keys(config.pools)[0] as string })];
  return config.routes.map((r, i) => {
    const spec: RouteSpec = { ...r, id: r.id ?? `route-${i + 1}` };
    return compileRoute(spec);
  });
}
