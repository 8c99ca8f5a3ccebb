/**
 * reverse: the L7 balancer (`portico reverse`, own process, round robin over 3 keep-alive backends) vs one backend
 * direct, with autocannon (own process, 50 connections, keep-alive): 1 KiB and 100 KiB. The target is
 * ≥ 0.5× nginx's req/s; nginx itself is measured by ../shared/bench scenario E, so this table gives the × direct
 * figure to set beside it. Portico logs at warn (no per-request lines), once as one process and once with --workers 2
 * (as nginx and haproxy run there). The proxy CPU column is the reverse process's user+system time per response (µs),
 * its workers included.
 */
import { join } from 'node:path';
import { startOrigin, type Origin } from '../lib/origin.js';
import { ROOT, runForResult, spawnReady, tsNode } from '../lib/procs.js';
import type { LoadResult } from '../lib/load-result.js';
import { runRounds, summarize, summaryCells, SUMMARY_HEADERS, type Row } from '../lib/rounds.js';
import type { ScenarioContext, ScenarioReport } from '../lib/scenario.js';
import { markdownTable } from '../lib/table.js';

const LOADS = [{ load: '1k keep-alive', path: '/1k' }, { load: '100k keep-alive', path: '/100k' }] as const;

function row(name: string, port: number, path: string, connections: number, proxyPid?: number): Row {
  return {
    name,
    ...(proxyPid === undefined ? {} : { proxyPid }),
    run: (durationSec) => {
      const [cmd, args] = tsNode('clients/l4-load.ts', [JSON.stringify({ url: `http://127.0.0.1:${port}`, path, connections, durationSec, newConnection: false })]);
      return runForResult<LoadResult>(`reverse-load ${name}`, cmd, args, (durationSec + 60) * 1000);
    },
  };
}

export async function runReverse(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options } = ctx;
  const origins: Origin[] = [await startOrigin(), await startOrigin(), await startOrigin()];
  const backends = origins.flatMap((o) => ['--backend', `127.0.0.1:${o.port}`]);
  const start = (name: string, extra: string[]): ReturnType<typeof spawnReady> => spawnReady(name, process.execPath,
    [join(ROOT, 'dist', 'main.js'), 'reverse', '--listen', '127.0.0.1:0', ...backends, '--balance', 'round-robin', '--log-level', 'warn', ...extra],
    { ready: /^portico reverse listening on http:\/\/127\.0\.0\.1:(\d+)$/ });
  const { proc, match } = await start('portico-reverse', []);
  // nginx and haproxy run two workers in scenario E on this 2-core machine; this is Portico's like-for-like row.
  const workers = await start('portico-reverse-workers', ['--workers', '2']).catch(async (err: unknown) => { await proc.stop(); throw err; });
  const served = async (): Promise<number> => (await Promise.all(origins.map((o) => o.count()))).reduce((a, b) => a + b, 0);
  try {
    const port = Number(match[1]);
    const workersPort = Number(workers.match[1]);
    const first = origins[0] as Origin;
    const data: Record<string, unknown> = {};
    const tableRows: (string | number)[][] = [];
    for (const { load, path } of LOADS) {
      const rows: Row[] = [
        row('direct (one backend)', first.port, path, options.connections),
        row('portico reverse', port, path, options.connections, proc.child.pid),
        row('portico reverse --workers 2', workersPort, path, options.connections, workers.proc.child.pid),
      ];
      const runs = await runRounds({ label: `reverse ${load}`, rounds: options.rounds, durationSec: options.durationSec, warmupSec: options.warmupSec, quiet: ctx.quiet }, rows, served);
      const summary = summarize(runs);
      data[load] = summary;
      tableRows.push(...summary.map((s) => summaryCells(load, s)));
    }
    const markdown = ['### reverse: L7 balancer (portico reverse, round robin over 3 backends) vs direct',
      `${options.rounds} run(s) per row, alternating; ${options.durationSec} s each after a ${options.warmupSec} s warm-up; autocannon, ${options.connections} connections, keep-alive. `
        + 'Three backends (bench origins, one process each); direct goes to one of them. For nginx/haproxy side by side, run ../shared/bench scenario E. The machine is shared: see the other-CPU column.',
      '', markdownTable(SUMMARY_HEADERS, tableRows)].join('\n');
    return { name: 'reverse', markdown, data };
  } finally {
    await Promise.all([proc.stop(), workers.proc.stop(), ...origins.map((o) => o.proc.stop())]);
  }
}
