/**
 * Load client for the l4 scenario: autocannon in its own process. argv[2] is JSON: { url, path, connections,
 * durationSec, reconnectRate }. reconnectRate 1 opens a new TCP connection for every request (the L4 balancer then
 * picks a backend and dials it per request); 0 keeps connections alive.
 */
import autocannon, { type AutocannonOptions } from 'autocannon';
import { printResult } from '../lib/load-result.js';

interface Args { url: string; path: string; connections: number; durationSec: number; reconnectRate: number }

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const opts: AutocannonOptions & { reconnectRate?: number } = {
  url: args.url,
  connections: args.connections,
  duration: args.durationSec,
  pipelining: 1,
  timeout: 5,
  requests: [{ method: 'GET', path: args.path }],
  ...(args.reconnectRate > 0 ? { reconnectRate: args.reconnectRate } : {}),
};
const result = await autocannon(opts);
printResult({
  reqPerSec: result['2xx'] / result.duration,
  ok: result['2xx'],
  errors: result.errors,
  non2xx: result.non2xx,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  durationSec: result.duration,
  responses: result['2xx'] + result.non2xx,
});
