/**
 * Logging bench (issue 5): requests/s through Portico with the access log off, JSON to a rotated file, squid to a
 * file, and JSON to a file plus the admin endpoint (ring + metrics). Uncached 1 KiB responses, so every request
 * runs the whole pipeline and emits one flow.end. Origin, each Portico and each autocannon run are separate
 * processes. Needs `npm run build` (Portico runs from dist/).
 *   node --import tsx test/bench/logging.bench.ts [--duration 5] [--rounds 5] [--connections 50]
 * Prints a table and the drop vs logging off; the target (< 10% with JSON to a file) is reported, never asserted.
 * The headline ratio is the median over rounds of (json req/s ÷ off req/s) within the same round: the rows of a
 * round run back to back in alternating order, so a load swing from other jobs hits both sides of each ratio.
 * On a shared machine req/s swings more than the effect, so each row also shows Portico's own CPU per request
 * (/proc utime+stime over the run ÷ requests served), which contention barely moves.
 */
import { readdir, stat, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/cpu.js';
import type { LoadResult } from './lib/load-result.js';
import { ROOT, runForResult, spawnReady, tsNode, type Proc } from './lib/procs.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } } });
const durationSec = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

interface Row { name: string; flags: (dir: string) => string[]; url?: string; proc?: Proc }

const rows: Row[] = [
  { name: 'logging off (--log-level warn)', flags: () => ['--log-level', 'warn'] },
  { name: 'json to a rotated file', flags: (d) => ['--access-log', join(d, 'json.log')] },
  { name: 'squid to a rotated file', flags: (d) => ['--access-log', join(d, 'squid.log'), '--log-format', 'squid'] },
  { name: 'json file + admin (ring, metrics)', flags: (d) => ['--access-log', join(d, 'admin.log'), '--admin', '127.0.0.1:0'] },
];

async function portico(row: Row, dir: string): Promise<void> {
  const args = [join(ROOT, 'dist', 'main.js'), 'forward', '--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8',
    '--no-cache', '--rules', join(dir, 'no-rules'), ...row.flags(dir)];
  const { proc, match } = await spawnReady(row.name, process.execPath, args, { ready: /^portico forward listening on (http:\/\/\S+)/ });
  row.url = match[1] as string;
  row.proc = proc;
}

async function load(row: Row, target: string, seconds: number): Promise<LoadResult> {
  const [cmd, args] = tsNode('clients/autocannon-load.ts', [JSON.stringify({ url: row.url, path: target, connections, durationSec: seconds })]);
  return runForResult<LoadResult>(`autocannon ${row.name}`, cmd, args, (seconds + 60) * 1000);
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

const startLoad = loadavg()[0]?.toFixed(1);
const dir = await mkdtemp(join(tmpdir(), 'portico-log-bench-'));
const [ocmd, oargs] = tsNode('cache-origin.ts', []);
const origin = await spawnReady('cache-origin', ocmd, oargs, { ready: /^origin listening on (\d+)$/, ipc: true });
const target = `http://127.0.0.1:${origin.match[1]}/nostore-1k`;
const results = new Map<string, LoadResult[]>();
const cpuPerReq = new Map<string, number[]>();
try {
  for (const row of rows) await portico(row, dir);
  for (const row of rows) await load(row, target, 1); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const row of r % 2 ? [...rows].reverse() : rows) { // alternate the order so drift hits every row alike
      const cpu0 = cpuSeconds(row.proc?.child.pid);
      const res = await load(row, target, durationSec);
      const us = ((cpuSeconds(row.proc?.child.pid) - cpu0) * 1e6) / Math.max(1, res.reqPerSec * res.durationSec);
      results.set(row.name, [...(results.get(row.name) ?? []), res]);
      cpuPerReq.set(row.name, [...(cpuPerReq.get(row.name) ?? []), us]);
      process.stderr.write(`round ${r + 1} ${row.name}: ${res.reqPerSec.toFixed(0)} req/s, ${us.toFixed(0)} µs CPU/req (errors ${res.errors}, non2xx ${res.non2xx})\n`);
    }
  }
  const rps = (name: string): number => median((results.get(name) ?? []).map((x) => x.reqPerSec));
  const off = rps(rows[0]?.name ?? '');
  console.log(`\n### logging: uncached 1 KiB responses, ${connections} connections, ${rounds} x ${durationSec} s per row (median)\n`);
  const cpu = (name: string): number => median(cpuPerReq.get(name) ?? []);
  const offCpu = cpu(rows[0]?.name ?? '');
  console.log('| row | req/s | vs off | Portico CPU µs/req | vs off | p99 ms |\n|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const v = rps(row.name);
    const c = cpu(row.name);
    console.log(`| ${row.name} | ${v.toFixed(0)} | ${pct((v - off) / off)} | ${c.toFixed(0)} | `
      + `${pct((c - offCpu) / offCpu)} | ${results.get(row.name)?.at(-1)?.p99Ms ?? '-'} |`);
  }
  let bytes = 0;
  for (const f of await readdir(dir)) bytes += (await stat(join(dir, f))).size;
  console.log(`\naccess-log files: ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${dir}`);
  const json = rows[1]?.name ?? '';
  console.log(`json-to-file: throughput ${(((off - rps(json)) / off) * 100).toFixed(1)}% lower, `
    + `CPU/request ${(((cpu(json) - offCpu) / offCpu) * 100).toFixed(1)}% higher (≈ the throughput drop when CPU-bound; target < 10%)`);
  const paired = (name: string): number[] => (results.get(name) ?? []).map((x, i) => x.reqPerSec / (results.get(rows[0]?.name ?? '')?.[i]?.reqPerSec ?? NaN));
  const ratios = paired(json);
  console.log(`json-to-file / off throughput ratio: ${median(ratios).toFixed(3)} (median of ${ratios.length} alternating rounds: `
    + `${ratios.map((r) => r.toFixed(2)).join(', ')}), drop ${((1 - median(ratios)) * 100).toFixed(1)}% (target < 10%); `
    + `load average ${startLoad} at start, ${loadavg()[0]?.toFixed(1)} at the end (2 cores; > 2 means other jobs competed)`);
} finally {
  for (const row of rows) await row.proc?.stop();
  await origin.proc.stop();
  await rm(dir, { recursive: true, force: true });
}
