/**
 * Load client for the l4 scenario: autocannon in its own process. argv[2] is JSON: { url, path, connections,
 * durationSec, newConnection }. newConnection sends `Connection: close`, so the origin closes after each response and
 * autocannon opens a new TCP connection per request (the L4 balancer then picks and dials a backend per request);
 * autocannon 9's own reconnectRate: 1 completes no request at all, so it is not used.
 */
import autocannon, { type AutocannonOptions } from 'autocannon';
import { printResult } from '../lib/load-result.js';

interface Args { url: string; path: string; connections: number; durationSec: number; newConnection: boolean }

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const opts: AutocannonOptions = {
  url: args.url,
  connections: args.connections,
  duration: args.durationSec,
  pipelining: 1,
  timeout: 5,
  requests: [{ method: 'GET', path: args.path, ...(args.newConnection ? { headers: { connection: 'close' } } : {}) }],
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
