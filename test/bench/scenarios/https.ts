/**
 * mitm and connect: HTTPS keep-alive GETs (undici, own process, 50 connections) straight to an HTTPS origin vs
 * through Portico with --mitm (TLS terminated with a Portico leaf, re-originated to the origin) and through a blind
 * CONNECT tunnel (no --mitm; TLS end to end). Tunnels are reused: each of the 50 connections keeps its tunnel.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadResult } from '../lib/load-result.js';
import { startOrigin } from '../lib/origin.js';
import { makeOriginPki } from '../lib/pki.js';
import { initCa, startPortico, type PorticoProcess } from '../lib/portico.js';
import { runForResult, tsNode } from '../lib/procs.js';
import { runRounds, summarize, summaryCells, SUMMARY_HEADERS, type Row } from '../lib/rounds.js';
import type { ScenarioContext, ScenarioReport } from '../lib/scenario.js';
import { markdownTable } from '../lib/table.js';

interface UndiciArgs { target: string; proxy?: string; caFile: string; connections: number; durationSec: number; warmupSec: number }

function undiciRow(name: string, args: Omit<UndiciArgs, 'durationSec' | 'warmupSec'>, clientWarmupSec: number, proxy?: PorticoProcess): Row {
  return {
    name,
    ...(proxy?.proc.child.pid !== undefined ? { proxyPid: proxy.proc.child.pid } : {}),
    run: (durationSec) => {
      const full: UndiciArgs = { ...args, durationSec, warmupSec: clientWarmupSec };
      const [cmd, argv] = tsNode('clients/undici-load.ts', [JSON.stringify(full)]);
      return runForResult<LoadResult>(`undici ${name}`, cmd, argv, (durationSec + clientWarmupSec + 60) * 1000);
    },
  };
}

export async function runHttps(ctx: ScenarioContext, which: { mitm: boolean; connect: boolean }): Promise<ScenarioReport> {
  const { options } = ctx;
  const dir = join(ctx.tmp, 'https');
  await mkdir(dir, { recursive: true });
  const pki = await makeOriginPki(dir);
  const origin = await startOrigin({ cert: pki.certFile, key: pki.keyFile });
  const proxies: PorticoProcess[] = [];
  try {
    const target = `https://127.0.0.1:${origin.port}/1k`;
    const connectPorts = [443, origin.port];
    const connections = options.connections;
    const clientWarmup = 0.5;
    const rows: Row[] = [undiciRow('direct (https)', { target, caFile: pki.caFile, connections }, clientWarmup)];
    if (which.mitm) {
      const certs = join(dir, 'portico-certs');
      const caFile = await initCa(certs);
      const p = await startPortico('portico-mitm', { logLevel: 'warn', connectPorts, mitm: { certs, upstreamCa: pki.caFile } });
      proxies.push(p);
      rows.push(undiciRow('portico --mitm', { target, proxy: p.url, caFile, connections }, clientWarmup, p));
    }
    if (which.connect) {
      const p = await startPortico('portico-connect', { logLevel: 'warn', connectPorts });
      proxies.push(p);
      rows.push(undiciRow('portico blind CONNECT', { target, proxy: p.url, caFile: pki.caFile, connections }, clientWarmup, p));
    }
    const label = [which.mitm ? 'mitm' : '', which.connect ? 'connect' : ''].filter(Boolean).join('+');
    const runs = await runRounds({ label, rounds: options.rounds, durationSec: options.durationSec, warmupSec: options.warmupSec, quiet: ctx.quiet }, rows, origin.count);
    const summary = summarize(runs);
    const markdown = [
      '### mitm / connect: HTTPS keep-alive through Portico (TLS interception, blind tunnel) vs direct',
      `${options.rounds} run(s) per row, alternating; ${options.durationSec} s each (plus ${clientWarmup} s unrecorded in-client warm-up) after a ${options.warmupSec} s warm-up run; undici, ${connections} connections (= reused tunnels), GET /1k.`,
      '', markdownTable(SUMMARY_HEADERS, summary.map((s) => summaryCells('1k', s))),
    ].join('\n');
    return { name: label, markdown, data: { '1k': summary } };
  } finally {
    await Promise.all([...proxies.map((p) => p.proc.stop()), origin.proc.stop()]);
  }
}
