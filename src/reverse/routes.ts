import picomatch from 'picomatch';
import type { RawHeaders } from '../core/flow.js';
import { cookieValue, headerValue } from '../upstream/hash-key.js';

export interface CanaryRouteSpec {
  readonly pool: string;
  readonly percent: number;
  /** `ip`, `cookie:NAME` or `header:NAME`; random per request when unset. */
  readonly sticky?: string;
  readonly overrideHeader: string;
}

/** One route as configured (lb.yaml `routes:`); every condition present must hold. */
export interface RouteSpec {
  readonly id: string;
  /** Exact names or picomatch globs (`*.example.com`), any case. */
  readonly host?: readonly string[];
  /** Path prefix on segment boundaries: `/api` matches `/api` and `/api/x`, not `/apix`. */
  readonly path?: string;
  readonly pathGlob?: string;
  readonly pathRegex?: string;
  readonly methods?: readonly string[];
  /** Header name → exact value or glob. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cookies?: Readonly<Record<string, string>>;
  readonly pool: string;
  /** Remove the `path` prefix (true) or this prefix before forwarding. */
  readonly stripPrefix?: boolean | string;
  readonly setHeaders?: Readonly<Record<string, string>>;
  readonly removeHeaders?: readonly string[];
  readonly canary?: CanaryRouteSpec;
}

export interface RouteRequest {
  readonly host: string;
  readonly path: string;
  readonly method: string;
  readonly headers: RawHeaders;
}

interface Matcher { readonly explain: string; test(req: RouteRequest): boolean }

export interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly matchers: readonly Matcher[];
  /** The prefix to strip, resolved once. */
  readonly strip: string | undefined;
  /** Why it matched (its conditions, or "matches everything"), built once: a hit costs no string work. */
  readonly why: string;
  /** `route ID: why`, the start of a routing decision's reason, built once too. */
  readonly because: string;
}

const globOpts = { nocase: true, dot: true } as const;

function valueMatcher(kind: 'header' | 'cookie', name: string, pattern: string): Matcher {
  const isGlob = picomatch.scan(pattern).isGlob;
  const glob = isGlob ? picomatch(pattern, { dot: true }) : undefined;
  const read = kind === 'header' ? (h: RawHeaders) => headerValue(h, name) : (h: RawHeaders) => cookieValue(h, name);
  return {
    explain: `${kind} ${name} ${isGlob ? 'matches' : '='} ${pattern}`,
    test: (req) => {
      const v = read(req.headers);
      return v !== undefined && (glob ? glob(v) : v === pattern);
    },
  };
}

/** Compiles a route's conditions into matchers once (Caddy's wrapRoute); throws naming the route on a bad regex. */
export function compileRoute(spec: RouteSpec): CompiledRoute {
  const m: Matcher[] = [];
  if (spec.host !== undefined && spec.host.length > 0) {
    const hosts = spec.host.map((h) => h.toLowerCase());
    const test = picomatch(hosts, globOpts);
    m.push({ explain: `host matches ${hosts.join('|')}`, test: (req) => test(req.host) });
  }
  if (spec.path !== undefined) {
    const prefix = spec.path.endsWith('/') && spec.path.length > 1 ? spec.path.slice(0, -1) : spec.path;
    m.push({
      explain: `path prefix ${prefix}`,
      test: (req) => prefix === '/' || req.path === prefix || req.path.startsWith(`${prefix}/`),
    });
  }
  if (spec.pathGlob !== undefined) {
    const test = picomatch(spec.pathGlob, { dot: true });
    m.push({ explain: `path matches ${spec.pathGlob}`, test: (req) => test(req.path) });
  }
  if (spec.pathRegex !== undefined) {
    let re: RegExp;
    try { re = new RegExp(spec.pathRegex); } catch (err) { throw new Error(`route ${spec.id}: pathRegex: ${(err as Error).message}`); }
    m.push({ explain: `path ~ /${spec.pathRegex}/`, test: (req) => re.test(req.path) });
  }
  if (spec.methods !== undefined && spec.methods.length > 0) {
    const methods = new Set(spec.methods.map((x) => x.toUpperCase()));
    m.push({ explain: `method in ${[...methods].join(',')}`, test: (req) => methods.has(req.method) });
  }
  for (const [name, pattern] of Object.entries(spec.headers ?? {})) m.push(valueMatcher('header', name, pattern));
  for (const [name, pattern] of Object.entries(spec.cookies ?? {})) m.push(valueMatcher('cookie', name, pattern));
  const strip = spec.stripPrefix === true ? spec.path : spec.stripPrefix === false ? undefined : spec.stripPrefix;
  const why = m.length === 0 ? 'matches everything' : m.map((x) => x.explain).join(', ');
  return { spec, matchers: m, strip: strip === '/' ? undefined : strip?.replace(/\/$/, ''), why, because: `route ${spec.id}: ${why}` };
}

/** First route whose every matcher holds (its `why` says which conditions); undefined when none matches. */
export function matchRoute(routes: readonly CompiledRoute[], req: RouteRequest): CompiledRoute | undefined {
  for (const route of routes) if (matches(route.matchers, req)) return route;
  return undefined;
}

function matches(matchers: readonly Matcher[], req: RouteRequest): boolean {
  for (const m of matchers) if (!m.test(req)) return false;
  return true;
}

/** The path the backend sees after strip-prefix (`/api/users` → `/users`; `/api` → `/`). */
export function rewritePath(path: string, strip: string | undefined): string {
  if (strip === undefined || !(path === strip || path.startsWith(`${strip}/`))) return path;
  const rest = path.slice(strip.length);
  return rest === '' ? '/' : rest;
}
