/**
 * workers: plain HTTP 1 KiB through `portico forward --workers 1` vs `--workers 2` (node:cluster), autocannon with
 * 50 connections, alternating rounds. Reports the paired ratio 2 workers ÷ 1 worker. On the 2-core dev VM the load
 * generator and the origin compete for the same cores, so the ceiling is well under 2×; say so with the figure.
 */
import { getViaProxy } from '../lib/check.js';
import { startOrigin } from '../lib/origin.js';
import { startPortico, type PorticoProcess } from '../lib/portico.js';
import { runForResult, tsNode } from '../lib/procs.js';
import type { LoadResult } from '../lib/load-result.js';
import { runRounds, summarize, summaryCells, SUMMARY_HEADERS, type Row } from '../lib/rounds.js';
import type { ScenarioContext, ScenarioReport } from '../lib/scenario.js';
import { fmt, markdownTable } from '../lib/table.js';

function row(name: string, url: string, path: string, connections: number): Row {
  return {
    name,
    // No proxyPid: a clustered proxy's CPU is spent in its workers, not the pid the bench started.
    run: (durationSec) => {
      const [cmd, args] = tsNode('clients/autocannon-load.ts', [JSON.stringify({ url, path, connections, durationSec })]);
      return runForResult<LoadResult>(`autocannon ${name}`, cmd, args, (durationSec + 60) * 1000);
    },
  };
}

export async function runWorkers(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options } = ctx;
  const origin = await startOrigin();
  const one = await startPortico('portico-1-worker', { logLevel: 'warn' });
  const two = await startPortico('portico-2-workers', { logLevel: 'warn', extraArgs: ['--workers', '2'] });
  try {
    const originUrl = `http://127.0.0.1:${origin.port}`;
    const path = '/1k';
    for (const p of [one, two] as PorticoProcess[]) {
      const r = await getViaProxy(p.port, `${originUrl}${path}`);
      if (r.status !== 200) throw new Error(`${p.proc.name}: GET gave ${r.status}`);
    }
    const rows = [
      row('1 worker', one.url, `${originUrl}${path}`, options.connections),
      row('2 workers', two.url, `${originUrl}${path}`, options.connections),
    ];
    const runs = await runRounds({ label: 'workers', rounds: options.rounds, durationSec: options.durationSec, warmupSec: options.warmupSec, quiet: ctx.quiet }, rows, origin.count);
    const summary = summarize(runs, '1 worker');
    const ratio = summary.find((s) => s.row === '2 workers')?.ratio ?? Number.NaN;
    const markdown = [
      '### workers: plain HTTP 1 KiB, 1 vs 2 worker processes (node:cluster)',
      `${options.rounds} run(s) per row, alternating; ${options.durationSec} s each; autocannon, ${options.connections} connections, keep-alive; `
        + '"×direct" here is × the 1-worker row. The load generator and the origin share the same cores, and other jobs may too '
        + '(see "other CPU % before").',
      '', markdownTable(SUMMARY_HEADERS, summary.map((s) => summaryCells('1k', s))), '',
      `**2 workers ÷ 1 worker: ${fmt(ratio, 2)}×** (median of per-round ratios)`,
    ].join('\n');
    return { name: 'workers', markdown, data: { summary, ratio } };
  } finally {
    await Promise.all([one.proc.stop(), two.proc.stop(), origin.proc.stop()]);
  }
}
