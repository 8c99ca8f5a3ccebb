/**
 * plain: HTTP/1.1 keep-alive, autocannon (own process, 50 connections, pipelining 1) straight to the origin vs
 * absolute-form through Portico (the CLI, own process). Portico runs twice: --log-level warn (no per-flow lines) and
 * info (one JSON line per flow on stdout, drained by the bench) to show what per-flow logging costs.
 */
import { getViaProxy } from '../lib/check.js';
import { startOrigin } from '../lib/origin.js';
import { startPortico, type PorticoProcess } from '../lib/portico.js';
import { runForResult, tsNode } from '../lib/procs.js';
import type { LoadResult } from '../lib/load-result.js';
import { runRounds, summarize, summaryCells, SUMMARY_HEADERS, type Row } from '../lib/rounds.js';
import type { ScenarioContext, ScenarioReport } from '../lib/scenario.js';
import { markdownTable } from '../lib/table.js';

function autocannonRow(name: string, url: string, path: string, connections: number, proxy?: PorticoProcess): Row {
  return {
    name,
    ...(proxy?.proc.child.pid !== undefined ? { proxyPid: proxy.proc.child.pid } : {}),
    run: (durationSec) => {
      const [cmd, args] = tsNode('clients/autocannon-load.ts', [JSON.stringify({ url, path, connections, durationSec })]);
      return runForResult<LoadResult>(`autocannon ${name}`, cmd, args, (durationSec + 60) * 1000);
    },
  };
}

async function check(proxy: PorticoProcess, url: string, size: number): Promise<void> {
  const r = await getViaProxy(proxy.port, url);
  if (r.status !== 200 || r.bytes !== size) throw new Error(`${proxy.proc.name}: GET ${url} gave ${r.status} with ${r.bytes} bytes`);
}

export async function runPlain(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options } = ctx;
  const origin = await startOrigin();
  const warn = await startPortico('portico-warn', { logLevel: 'warn' });
  const info = await startPortico('portico-info', { logLevel: 'info' });
  try {
    const originUrl = `http://127.0.0.1:${origin.port}`;
    const loads = [{ load: '1k', size: 1024, withInfo: true }, { load: '100k', size: 100 * 1024, withInfo: false }];
    const sections: string[] = [];
    const data: Record<string, unknown> = {};
    const tableRows: (string | number)[][] = [];
    for (const { load, size, withInfo } of loads) {
      const path = `/${load}`;
      await check(warn, `${originUrl}${path}`, size);
      if (withInfo) await check(info, `${originUrl}${path}`, size);
      const rows: Row[] = [
        autocannonRow('direct', originUrl, path, options.connections),
        autocannonRow('portico', warn.url, `${originUrl}${path}`, options.connections, warn),
        ...(withInfo ? [autocannonRow('portico, per-flow log on (info)', info.url, `${originUrl}${path}`, options.connections, info)] : []),
      ];
      const runs = await runRounds({ label: `plain ${load}`, rounds: options.rounds, durationSec: options.durationSec, warmupSec: options.warmupSec, quiet: ctx.quiet }, rows, origin.count);
      const summary = summarize(runs);
      data[load] = summary;
      tableRows.push(...summary.map((s) => summaryCells(load, s)));
    }
    sections.push('### plain: HTTP forward proxy (absolute-form) vs direct',
      `${options.rounds} run(s) per row, alternating; ${options.durationSec} s each after a ${options.warmupSec} s warm-up; autocannon, ${options.connections} connections, pipelining 1, keep-alive.`,
      '', markdownTable(SUMMARY_HEADERS, tableRows));
    return { name: 'plain', markdown: sections.join('\n'), data };
  } finally {
    await Promise.all([warn.proc.stop(), info.proc.stop(), origin.proc.stop()]);
  }
}
