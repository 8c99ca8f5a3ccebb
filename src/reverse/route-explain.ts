import pino from 'pino';
import type { Clock } from '../core/clock.js';
import { createEventBus } from '../core/events.js';
import type { Flow } from '../core/flow.js';
import { describeAuth, describeRateLimit, explainAuth, redactUrl } from '../gateway/explain.js';
import { policyOptions } from '../policy/compile.js';
import { decide } from '../policy/decide.js';
import { flowRequest } from '../stages/policy.js';
import { createPolicySource } from '../stages/policy-source.js';
import type { ReverseRouteConfig } from './config.js';

type Line = readonly [label: string, text: string];

function describeCache(c: ReverseRouteConfig['cache'], method: string): string {
  if (c === undefined || c.store === 'off') return 'off';
  const parts = [redactUrl(c.store), `objects up to ${c.maxObjectBytes} bytes`, `heuristic freshness up to ${c.heuristicMaxMs} ms`];
  if (c.defaultTtlCapMs !== undefined) parts.push(`every freshness capped at ${c.defaultTtlCapMs} ms`);
  if (c.coalesceWaitMs > 0) parts.push(`concurrent misses wait up to ${c.coalesceWaitMs} ms for the first`);
  const note = method === 'GET' || method === 'HEAD' ? '' : `; a ${method} is not served from it`;
  return `${parts.join(', ')}${note}`;
}

/** The route's policy rules, loaded as a reload would, and what they decide for this request. */
async function explainPolicy(p: NonNullable<ReverseRouteConfig['policy']>, flow: Flow, clock: Clock): Promise<string> {
  const settings = `rules ${p.rules} (default ${p.defaultAction}${p.reportOnly ? ', report only' : ''})`;
  try {
    const source = await createPolicySource({
      dir: p.rules, watch: false, debounceMs: p.reloadDebounceMs,
      options: policyOptions(p),
    }, { log: pino({ level: 'silent' }), bus: createEventBus() });
    try {
      const d = decide(flowRequest(flow, flow.request.url.hostname, clock.now()), source.current());
      return `${settings}: ${d.explain()}${d.reportOnly && d.action === 'block' ? ' (reported, not enforced)' : ''}`;
    } finally {
      source.close();
    }
  } catch (err) {
    return `${settings}: cannot be loaded: ${(err as Error).message}`;
  }
}

/**
 * What the matched route's own stages would do with the request, in the order they run (rate limit → auth → policy
 * → cache): their settings, the rate-limit bucket (keyed on the client resolved through trusted proxies), whether
 * auth admits the request and as whom, the policy decision (for the user auth names). `flow` is a throwaway copy, its
 * client already resolved through trusted proxies (`notes.realIp`, as the server's client-headers stage leaves it).
 */
export async function explainRouteStages(route: ReverseRouteConfig | undefined, flow: Flow, clock: Clock): Promise<Line[]> {
  const lines: Line[] = [];
  const realIp = flow.notes.realIp ?? flow.client.ip;
  const via = realIp === flow.client.ip ? '' : ` (client ${realIp} named by trusted proxy ${flow.client.ip})`;
  lines.push(['rate', route?.rateLimit === undefined ? 'none' : `${describeRateLimit(route.rateLimit, realIp, flow)}${via}`]);
  if (route?.auth === undefined) lines.push(['auth', 'none']);
  else lines.push(['auth', describeAuth(route.auth)], ['', `→ ${await explainAuth(route.auth, flow, clock)}`]);
  lines.push(['policy', route?.policy === undefined ? 'none' : await explainPolicy(route.policy, flow, clock)]);
  lines.push(['cache', describeCache(route?.cache, flow.request.method)]);
  return lines;
}
