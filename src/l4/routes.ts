import picomatch from 'picomatch';
import type { SniResult } from './sni-peek.js';

export interface SniRouteSpec { readonly match: readonly string[]; readonly pool: string }

/** SNI routes compiled once per (re)load: exact names in a Map, real globs through picomatch (nocase). */
export interface SniRouter {
  /** The pool for a peek result: the first route whose name matches, else the default pool (undefined: refuse). */
  route(result: SniResult): { pool: string | undefined; sni: string | undefined };
}

export function compileSniRoutes(routes: readonly SniRouteSpec[], defaultPool: string | undefined): SniRouter {
  const tests = routes.map((r) => {
    const exact = new Set<string>();
    const globs: string[] = [];
    for (const m of r.match) {
      const norm = m.toLowerCase().replace(/\.$/, '');
      if (picomatch.scan(norm).isGlob) globs.push(norm);
      else exact.add(norm);
    }
    const glob = globs.length === 0 ? undefined : picomatch(globs, { nocase: true, dot: true });
    return { pool: r.pool, test: (host: string): boolean => exact.has(host) || (glob?.(host) ?? false) };
  });
  return {
    route(result) {
      if (result.kind !== 'sni') return { pool: defaultPool, sni: undefined };
      for (const t of tests) if (t.test(result.name)) return { pool: t.pool, sni: result.name };
      return { pool: defaultPool, sni: result.name };
    },
  };
}
