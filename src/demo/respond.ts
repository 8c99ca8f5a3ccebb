/**
 * What a demo backend answers, decided from the request alone (pure: no sockets, no timers). The server in
 * backend.ts only waits `delayMs` and writes the plan.
 */
export interface DemoRequest {
  readonly method: string;
  /** Origin-form target as received (`/cacheable?max-age=60`). */
  readonly target: string;
  /** Lower-cased names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface DemoState {
  readonly id: string;
  healthy: boolean;
  /** Requests answered so far (health checks and control calls excluded). */
  served: number;
}

export interface DemoPlan {
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly body: string;
  readonly delayMs: number;
  /** A control call that changes the backend's state (`/_demo/health`), applied by the caller. */
  readonly setHealthy?: boolean;
}

export interface DemoLimits {
  /** Upper bound of `/slow?ms=N`: a demo backend never holds a request longer. */
  readonly maxDelayMs: number;
  /** Upper bound of `/cacheable?max-age=N`. */
  readonly maxAgeS: number;
}

export const DEFAULT_DEMO_LIMITS: DemoLimits = { maxDelayMs: 60_000, maxAgeS: 86_400 };

const REQUEST_ID = 'x-request-id';

/** Decides the answer. Never throws: a malformed parameter gets a 400 naming it. */
export function planDemoResponse(req: DemoRequest, state: DemoState, limits: DemoLimits = DEFAULT_DEMO_LIMITS): DemoPlan {
  let url: URL;
  try {
    url = new URL(req.target, 'http://demo.invalid');
  } catch {
    return text(state, req, 400, `bad request target "${req.target}"\n`);
  }
  const path = url.pathname;
  if (path === '/healthz') return text(state, req, state.healthy ? 200 : 503, state.healthy ? 'ok\n' : 'unhealthy\n');
  if (path === '/_demo/health') return healthControl(req, state, url.searchParams.get('state'));
  if (path === '/slow') {
    const ms = intParam(url, 'ms', 1000, 0, limits.maxDelayMs);
    if (ms === undefined) return text(state, req, 400, `ms: expected an integer 0..${limits.maxDelayMs}\n`);
    return { ...echo(req, state, 200, [['Cache-Control', 'no-store']]), delayMs: ms };
  }
  if (path === '/fail') {
    const status = intParam(url, 'status', 500, 400, 599);
    if (status === undefined) return text(state, req, 400, 'status: expected an integer 400..599\n');
    return echo(req, state, status, [['Cache-Control', 'no-store']]);
  }
  if (path === '/cacheable') {
    const maxAge = intParam(url, 'max-age', 60, 0, limits.maxAgeS);
    if (maxAge === undefined) return text(state, req, 400, `max-age: expected an integer 0..${limits.maxAgeS}\n`);
    return echo(req, state, 200, [['Cache-Control', `public, max-age=${maxAge}`]]);
  }
  return echo(req, state, 200, [['Cache-Control', 'no-store']]);
}

/** True for paths that are not counted as served traffic (health checks, control calls). */
export function isHousekeeping(target: string): boolean {
  return target.startsWith('/healthz') || target.startsWith('/_demo/');
}

function healthControl(req: DemoRequest, state: DemoState, wanted: string | null): DemoPlan {
  if (req.method !== 'POST') return text(state, req, 405, 'use POST /_demo/health?state=up|down\n', [['Allow', 'POST']]);
  if (wanted !== 'up' && wanted !== 'down') return text(state, req, 400, 'state: expected up or down\n');
  return { ...text(state, req, 200, `health ${wanted}\n`), setHealthy: wanted === 'up' };
}

function intParam(url: URL, name: string, def: number, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return def;
  if (!/^\d{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
}

function baseHeaders(state: DemoState, req: DemoRequest): Array<[string, string]> {
  const out: Array<[string, string]> = [['X-Backend-Id', state.id]];
  const rid = single(req.headers[REQUEST_ID]);
  if (rid !== undefined) out.push(['X-Request-Id', rid]);
  return out;
}

function echo(req: DemoRequest, state: DemoState, status: number, extra: Array<[string, string]>): DemoPlan {
  const body = JSON.stringify({
    backend: state.id, status, method: req.method, url: req.target,
    requestId: single(req.headers[REQUEST_ID]) ?? null, served: state.served + 1, headers: req.headers,
  }, null, 2);
  return {
    status, body: `${body}\n`, delayMs: 0,
    headers: [...baseHeaders(state, req), ['Content-Type', 'application/json; charset=utf-8'], ...extra],
  };
}

function text(state: DemoState, req: DemoRequest, status: number, body: string, extra: Array<[string, string]> = []): DemoPlan {
  return {
    status, body, delayMs: 0,
    headers: [...baseHeaders(state, req), ['Content-Type', 'text/plain; charset=utf-8'], ['Cache-Control', 'no-store'], ...extra],
  };
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
