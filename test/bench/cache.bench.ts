/**
 * Cache bench (issue 4): requests/s of cache hits through Portico (memory and Redis stores) against the same
 * requests uncached through Portico and straight to the origin. Origin, each Portico and each autocannon run are
 * separate processes. Needs `npm run build` (Portico runs from dist/) and, for the Redis row, Redis on REDIS_URL.
 *   node --import tsx test/bench/cache.bench.ts [--duration 5] [--rounds 2] [--connections 50]
 * Prints a table and the ratios; the target (memory hits >= 1.5x uncached) is reported, never asserted.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createRedisStore } from '../../src/cache/stores/redis.js';
import { systemClock } from '../../src/core/clock.js';
import { cpuSeconds } from './lib/cpu.js';
import type { LoadResult } from './lib/load-result.js';
import { ROOT, runForResult, spawnReady, tsNode, type Proc } from './lib/procs.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' }, connections: { type: 'string', default: '50' } } });
const durationSec = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const REDIS_URL = process.env.PORTICO_BENCH_REDIS ?? 'redis://127.0.0.1:6379';

/** proxyPid: the Portico process charged with this row's CPU (none for the direct row). */
interface Row { name: string; url: string; path: string; proxyPid?: number | undefined }

async function portico(name: string, configYaml: string, dir: string): Promise<{ url: string; proc: Proc }> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, configYaml);
  const args = [join(ROOT, 'dist', 'main.js'), 'forward', '--config', file, '--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8', '--log-level', 'warn'];
  const { proc, match } = await spawnReady(name, process.execPath, args, { ready: /^portico forward listening on (http:\/\/\S+)/ });
  return { url: match[1] as string, proc };
}

async function load(row: Row, seconds: number): Promise<LoadResult> {
  const [cmd, args] = tsNode('clients/autocannon-load.ts', [JSON.stringify({ url: row.url, path: row.path, connections, durationSec: seconds })]);
  return runForResult<LoadResult>(`autocannon ${row.name}`, cmd, args, (seconds + 60) * 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

const dir = await mkdtemp(join(tmpdir(), 'portico-cache-bench-'));
const namespace = `portico-bench-${randomBytes(4).toString('hex')}:`;
const [ocmd, oargs] = tsNode('cache-origin.ts', []);
const origin = (await spawnReady('cache-origin', ocmd, oargs, { ready: /^origin listening on (\d+)$/, ipc: true }));
const originUrl = `http://127.0.0.1:${origin.match[1]}`;
const memory = await portico('portico-memory', 'cache: { store: memory }\n', dir);
const redis = await portico('portico-redis', `cache: { store: "${REDIS_URL}", opTimeoutMs: 200, redis: { namespace: "${namespace}" } }\n`, dir).catch(() => undefined);
const rows: Row[] = [
  { name: 'direct origin', url: originUrl, path: '/cached-1k' },
  { name: 'portico uncached (no-store)', url: memory.url, path: `${originUrl}/nostore-1k`, proxyPid: memory.proc.child.pid },
  { name: 'portico memory hit', url: memory.url, path: `${originUrl}/cached-1k`, proxyPid: memory.proc.child.pid },
  ...(redis ? [{ name: 'portico redis hit', url: redis.url, path: `${originUrl}/cached-1k`, proxyPid: redis.proc.child.pid }] : []),
];
const results = new Map<string, LoadResult[]>();
/** Proxy CPU (user + system, from /proc) per response, µs: the figure that holds up on a shared machine. */
const cpuPerReq = new Map<string, number[]>();
try {
  for (const row of rows) await load(row, 1); // warm-up: fills the caches, opens connections
  for (let r = 0; r < rounds; r++) {
    for (const row of rows) {
      const cpuBefore = cpuSeconds(row.proxyPid);
      const res = await load(row, durationSec);
      const us = ((cpuSeconds(row.proxyPid) - cpuBefore) * 1e6) / Math.max(1, res.ok + res.non2xx);
      results.set(row.name, [...(results.get(row.name) ?? []), res]);
      cpuPerReq.set(row.name, [...(cpuPerReq.get(row.name) ?? []), us]);
      process.stderr.write(`round ${r + 1} ${row.name}: ${res.reqPerSec.toFixed(0)} req/s, proxy ${Number.isNaN(us) ? '-' : us.toFixed(0)} µs CPU/response (errors ${res.errors}, non2xx ${res.non2xx})\n`);
    }
  }
  const count = once(origin.proc.child, 'message') as Promise<[{ requests: number }]>;
  origin.proc.child.send({ type: 'count' });
  const originRequests = (await count)[0].requests;
  const rps = (name: string): number => median((results.get(name) ?? []).map((x) => x.reqPerSec));
  console.log(`\n### cache: 1 KiB responses, ${connections} connections, ${rounds} x ${durationSec} s per row (median), keep-alive\n`);
  console.log('| row | req/s | proxy CPU µs/response | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|');
  for (const row of rows) {
    const last = results.get(row.name)?.at(-1);
    const cpu = row.proxyPid === undefined ? '-' : median(cpuPerReq.get(row.name) ?? []).toFixed(0);
    console.log(`| ${row.name} | ${rps(row.name).toFixed(0)} | ${cpu} | ${last?.p50Ms ?? '-'} | ${last?.p99Ms ?? '-'} |`);
  }
  const uncached = rps('portico uncached (no-store)');
  const direct = rps('direct origin');
  console.log(`\nmemory hit / uncached: ${(rps('portico memory hit') / uncached).toFixed(2)}x (target >= 1.5x)`);
  console.log(`memory hit / direct:   ${(rps('portico memory hit') / direct).toFixed(2)}x (squid memory hits: 0.56x in ../shared/bench scenario C)`);
  if (redis) console.log(`redis hit / uncached:  ${(rps('portico redis hit') / uncached).toFixed(2)}x; redis hit / direct: ${(rps('portico redis hit') / direct).toFixed(2)}x`);
  else console.log('redis row skipped: Portico could not start with the Redis store');
  console.log(`origin saw ${originRequests} requests (hits never reach it: only the warm-up misses, the direct and the no-store rows)`);
} finally {
  await memory.proc.stop();
  await redis?.proc.stop();
  await origin.proc.stop();
  const store = createRedisStore({ url: REDIS_URL, namespace, opTimeoutMs: 1000, purgeTimeoutMs: 10_000, chunkBytes: 1 << 19, bodyMsPerMiB: 25, failureThreshold: 3, probeIntervalMs: 1000, clock: systemClock, log: pino({ level: 'silent' }) });
  if (await store.ready(1000)) await store.purge({ kind: 'all' });
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
