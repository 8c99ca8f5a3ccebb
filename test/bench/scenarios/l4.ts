/**
 * l4: the TCP balancer (`portico l4`, own process) in front of the bench origin vs the origin direct, with
 * autocannon (own process, 50 connections, pipelining 1): 1 KiB keep-alive, 100 KiB keep-alive, and 1 KiB with a
 * new TCP connection per request. Portico logs at warn (no per-connection lines). The proxy CPU column is the L4
 * process's user+system time per response (µs), workers included. Rows, alternating: direct, a bare node:net pipe
 * (the least a Node balancer can do: what Node itself costs), portico l4, and portico l4 --workers 2.
 */
import { join } from 'node:path';
import { startOrigin } from '../lib/origin.js';
import { ROOT, runForResult, spawnReady, tsNode } from '../lib/procs.js';
import type { LoadResult } from '../lib/load-result.js';
import { runRounds, summarize, summaryCells, SUMMARY_HEADERS, type Row } from '../lib/rounds.js';
import type { ScenarioContext, ScenarioReport } from '../lib/scenario.js';
import { markdownTable } from '../lib/table.js';

/** A bare node:net pipe (net.connect + pipe both ways, noDelay): the measuring stick, not product code. */
const NODE_PIPE = `
const net = require('node:net');
const [port, target] = process.argv.slice(1).map(Number);
const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host: '127.0.0.1', port: target, noDelay: true });
  const closeBoth = () => { client.destroy(); upstream.destroy(); };
  client.on('error', closeBoth);
  upstream.on('error', closeBoth);
  client.pipe(upstream).pipe(client);
});
server.listen(port, '127.0.0.1', () => console.log('node pipe on ' + server.address().port));`;

const LOADS = [
  { load: '1k keep-alive', path: '/1k', newConnection: false },
  { load: '100k keep-alive', path: '/100k', newConnection: false },
  { load: '1k new connection per request', path: '/1k', newConnection: true },
] as const;

function row(name: string, port: number, path: string, connections: number, newConnection: boolean, proxyPid?: number): Row {
  return {
    name,
    ...(proxyPid === undefined ? {} : { proxyPid }),
    run: (durationSec) => {
      const [cmd, args] = tsNode('clients/l4-load.ts', [JSON.stringify({ url: `http://127.0.0.1:${port}`, path, connections, durationSec, newConnection })]);
      return runForResult<LoadResult>(`l4-load ${name}`, cmd, args, (durationSec + 60) * 1000);
    },
  };
}

export async function runL4(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options } = ctx;
  const origin = await startOrigin();
  const l4 = (name: string, extra: readonly string[]): ReturnType<typeof spawnReady> => spawnReady(name, process.execPath,
    [join(ROOT, 'dist', 'main.js'), 'l4', '--listen', '127.0.0.1:0', '--backend', `127.0.0.1:${origin.port}`, '--log-level', 'warn', ...extra],
    { ready: /^portico l4 listening on tcp:\/\/127\.0\.0\.1:(\d+)$/ });
  const [pipe, one, two] = await Promise.all([
    spawnReady('node-pipe', process.execPath, ['-e', NODE_PIPE, '0', String(origin.port)], { ready: /^node pipe on (\d+)$/ }),
    l4('portico-l4', []),
    l4('portico-l4-workers', ['--workers', '2']),
  ]);
  try {
    const data: Record<string, unknown> = {};
    const tableRows: (string | number)[][] = [];
    for (const { load, path, newConnection } of LOADS) {
      const rows: Row[] = [
        row('direct', origin.port, path, options.connections, newConnection),
        row('node:net pipe', Number(pipe.match[1]), path, options.connections, newConnection, pipe.proc.child.pid),
        row('portico l4', Number(one.match[1]), path, options.connections, newConnection, one.proc.child.pid),
        row('portico l4 --workers 2', Number(two.match[1]), path, options.connections, newConnection, two.proc.child.pid),
      ];
      const runs = await runRounds({ label: `l4 ${load}`, rounds: options.rounds, durationSec: options.durationSec, warmupSec: options.warmupSec, quiet: ctx.quiet }, rows, origin.count);
      const summary = summarize(runs);
      data[load] = summary;
      tableRows.push(...summary.map((s) => summaryCells(load, s)));
    }
    const markdown = ['### l4: TCP balancer (portico l4) vs direct',
      `${options.rounds} run(s) per row, alternating; ${options.durationSec} s each after a ${options.warmupSec} s warm-up; autocannon, ${options.connections} connections, pipelining 1. `
        + 'One backend (the bench origin); "new connection per request" sends Connection: close, so every request opens a new TCP connection. '
        + 'The node:net pipe is the least a Node balancer can do (what Node itself costs). The machine is shared: see the other-CPU column.',
      '', markdownTable(SUMMARY_HEADERS, tableRows)].join('\n');
    return { name: 'l4', markdown, data };
  } finally {
    await Promise.all([pipe.proc.stop(), one.proc.stop(), two.proc.stop(), origin.proc.stop()]);
  }
}
