/**
 * Load client for the plain scenario: autocannon in its own process. argv[2] is JSON: { url, path, connections,
 * durationSec }. With a proxy URL and an absolute path (http://origin/1k), requests go out in absolute-form.
 */
import autocannon from 'autocannon';
import { printResult } from '../lib/load-result.js';

interface Args { url: string; path: string; connections: number; durationSec: number }

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const result = await autocannon({
  url: args.url,
  connections: args.connections,
  duration: args.durationSec,
  pipelining: 1,
  timeout: 5,
  requests: [{ method: 'GET', path: args.path }],
});
printResult({
  reqPerSec: result['2xx'] / result.duration,
  ok: result['2xx'],
  errors: result.errors, // includes timeouts
  non2xx: result.non2xx,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  durationSec: result.duration,
  responses: result['2xx'] + result.non2xx,
});
