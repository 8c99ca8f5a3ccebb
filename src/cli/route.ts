import { Command } from 'commander';
import { seededRandom, systemClock } from '../core/clock.js';
import { createEventBus } from '../core/events.js';
import type { Flow, RawHeaders } from '../core/flow.js';
import { compileRoutes } from '../reverse/compile.js';
import { decideRoute } from '../reverse/decide.js';
import { explainRouteStages } from '../reverse/route-explain.js';
import { routeIdOf } from '../reverse/route-stages.js';
import { buildPools } from '../reverse/pools.js';
import { hashKeyOf, cookieValue } from '../upstream/hash-key.js';
import { noteRealIp, trustedProxies } from '../reverse/client-headers.js';
import { loadReverseConfig, withReverseOptions, type ReverseFlags } from './reverse.js';

interface RouteTestFlags extends ReverseFlags {
  header?: string[];
  cookie?: string[];
  client?: string;
  method?: string;
}

const label = (name: string): string => (name === '' ? ' '.repeat(9) : `${name}:`.padEnd(9));

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Prints the route, pool and backend a request would get, and why (the dry-run routing explainer). */
export async function routeTest(target: string, flags: RouteTestFlags, out: (line: string) => void): Promise<number> {
  const config = loadReverseConfig(flags);
  const url = new URL(target);
  const headers: RawHeaders = [['Host', url.host]];
  for (const h of flags.header ?? []) {
    const i = h.indexOf(':');
    if (i > 0) headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  if ((flags.cookie ?? []).length > 0) headers.push(['Cookie', (flags.cookie ?? []).join('; ')]);
  const clientIp = flags.client ?? '127.0.0.1';
  const method = (flags.method ?? 'GET').toUpperCase();
  const random = seededRandom(1);
  // The flow as the server sees it after its client-headers stage: behind a trusted proxy, keys follow the client it names.
  const flow = { client: { ip: clientIp, port: 0 }, request: { method, url, version: '1.1', headers }, notes: {} } as unknown as Flow;
  noteRealIp(flow, trustedProxies(config.trustedProxies));
  const d = decideRoute(compileRoutes(config), { host: url.hostname, path: url.pathname, method, headers,
    clientIp: flow.notes.realIp ?? clientIp }, random);
  if (d === undefined) {
    out(`route:   none (404) for ${method} ${url.host}${url.pathname}`);
    return 1;
  }
  const pools = buildPools(config.pools, { clock: systemClock, random, bus: createEventBus() });
  try {
    const pool = pools.get(d.pool);
    if (pool === undefined) throw new Error(`unknown pool ${d.pool}`);
    const now = systemClock.monotonic();
    pool.refresh(now);
    const hashKey = hashKeyOf(flow, pool.config.balance.hashOn);
    let reason = '';
    const token = pool.config.stickyCookie === undefined ? undefined : cookieValue(headers, pool.config.stickyCookie);
    const picked = pool.pick({ random, explain: (r) => { reason = r; }, ...(hashKey === undefined ? {} : { hashKey }) }, token);
    out(`route:   ${d.route}`);
    out(`pool:    ${d.pool}`);
    out(`path:    ${d.path}`);
    out(`backend: ${picked.backend?.id ?? 'none (503 NO_HEALTHY_BACKEND)'}`);
    out(`why:     ${d.why}; ${reason || 'no backend available'}${hashKey === undefined ? '' : ` (hash key "${hashKey}")`}`);
    const route = config.routes.find((r, i) => routeIdOf(r, i) === d.route);
    const routed = new URL(url);
    routed.pathname = d.path; // the route's stages see the path after strip-prefix, as in the proxy
    const copy = { ...flow, client: { ...flow.client }, request: { ...flow.request, url: routed, headers: [...headers] }, notes: { ...flow.notes } } as Flow;
    for (const [name, text] of await explainRouteStages(route, copy, systemClock)) out(`${label(name)}${text}`);
    out('note:    health is assumed up (no checks run); round-robin style pickers show the first pick');
    return 0;
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }
}

export function routeCommand(): Command {
  const test = withReverseOptions(new Command('test').description('show the route, pool and backend a request would get, and why'))
    .argument('<url>', 'the request URL, e.g. http://app.example/api/users')
    .option('--header <K:V>', 'a request header (repeat)', collect)
    .option('--cookie <K=V>', 'a request cookie (repeat)', collect)
    .option('--client <ip>', 'the client address (default 127.0.0.1)')
    .option('--method <method>', 'the request method (default GET)')
    .option('--trusted-proxy <cidrs>', 'peers whose X-Forwarded-For names the client (default: the config\'s trustedProxies)')
    .action(async (target: string, flags: RouteTestFlags) => {
      process.exitCode = await routeTest(target, flags, (line) => process.stdout.write(`${line}\n`));
    });
  return new Command('route').description('reverse proxy routing tools').addCommand(test);
}
