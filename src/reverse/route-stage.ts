import type { Random } from '../core/clock.js';
import type { RawHeaders } from '../core/flow.js';
import { CONTINUE, type Stage } from '../core/stage.js';
import type { CompiledRoute } from './routes.js';
import { decideRoute } from './decide.js';

export interface RouteStageOptions {
  readonly routes: () => readonly CompiledRoute[];
  readonly random: Random;
  /** Adds X-Portico-Backend to responses (--expose-backend). */
  readonly exposeBackend: boolean;
}

const enc = new TextEncoder();

function edit(headers: RawHeaders, remove: readonly string[] | undefined, set: Readonly<Record<string, string>> | undefined): RawHeaders {
  if (remove === undefined && set === undefined) return headers;
  const drop = new Set([...(remove ?? []), ...Object.keys(set ?? {})].map((h) => h.toLowerCase()));
  const out = headers.filter(([name]) => !drop.has(name.toLowerCase()));
  for (const [name, value] of Object.entries(set ?? {})) out.push([name, value]);
  return out;
}

/** L7 routing: route → pool (canary applied), strip-prefix, header edits; 404 when no route matches. */
export function routeStage(opts: RouteStageOptions): Stage {
  return {
    name: 'route',
    onRequest(flow) {
      const url = flow.request.url;
      const path = url.pathname; // a URL getter slices its href on every read
      const d = decideRoute(opts.routes(), {
        host: url.hostname, path, method: flow.request.method, headers: flow.request.headers, clientIp: flow.notes.realIp ?? flow.client.ip,
      }, opts.random);
      if (d === undefined) {
        const body = enc.encode(`no route for ${flow.request.method} ${url.host}${path}\n`);
        return { kind: 'reply', head: { status: 404, headers: [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)]] }, body };
      }
      flow.notes.route = d.route;
      flow.notes.pool = d.pool;
      if (d.path !== path) url.pathname = d.path;
      flow.request.headers = edit(flow.request.headers, d.spec.removeHeaders, d.spec.setHeaders);
      return CONTINUE;
    },
    onResponse(flow) {
      if (opts.exposeBackend && flow.response !== undefined && flow.notes.backend !== undefined) {
        flow.response.headers.push(['X-Portico-Backend', flow.notes.backend]);
      }
    },
  };
}
