/**
 * Alternating rounds: every row gets one unmeasured warm-up run, then each round runs every row once in order
 * (direct, proxy, direct, proxy, ...), so ratios can be taken pair by pair within a round.
 */
import { cpuSeconds } from './cpu.js';
import type { LoadResult } from './load-result.js';
import type { QuietGate } from './quiet.js';
import { fmt } from './table.js';
import { max, median, pairedRatio, sum } from './stats.js';

export interface Row {
  readonly name: string;
  /** The proxy process whose CPU time is charged to this row (none for direct rows). */
  readonly proxyPid?: number;
  run(durationSec: number): Promise<LoadResult>;
}

export interface RowRuns {
  readonly name: string;
  readonly runs: LoadResult[];
  /** Requests the origin saw per response the client got, per run (≈1.00 = every response came from the origin). */
  readonly originPerResponse: number[];
  /** Proxy CPU time per 2xx response in µs, per run (from /proc: user + system). */
  readonly proxyCpuUsPerReq: number[];
  /** Proxy CPU use during the run, % of one core. */
  readonly proxyCpuPercent: number[];
  /** Host CPU busy just before the run (% of one core): other jobs on the shared machine. */
  readonly otherCpuBefore: number[];
  /** Why the row was not measured (its warm-up got no 2xx response). */
  skipped?: string;
}

export interface RoundPlan { rounds: number; durationSec: number; warmupSec: number; label: string; quiet: QuietGate }

export async function runRounds(plan: RoundPlan, rows: readonly Row[], originCount: () => Promise<number>): Promise<RowRuns[]> {
  const out: RowRuns[] = rows.map((r) => ({ name: r.name, runs: [], originPerResponse: [], proxyCpuUsPerReq: [], proxyCpuPercent: [], otherCpuBefore: [] }));
  for (const [i, row] of rows.entries()) {
    const w = await row.run(plan.warmupSec);
    console.error(`[${plan.label}] warm-up ${row.name}: ${fmt(w.reqPerSec, 0)} req/s, errors ${w.errors}, non-2xx ${w.non2xx}`);
    if (w.ok === 0) out[i]!.skipped = `no 2xx response in the warm-up (errors ${w.errors}, non-2xx ${w.non2xx})`;
  }
  for (let round = 1; round <= plan.rounds; round++) {
    for (const [i, row] of rows.entries()) {
      if (out[i]!.skipped) continue;
      out[i]!.otherCpuBefore.push(await plan.quiet.wait(plan.label));
      const before = await originCount();
      const cpuBefore = cpuSeconds(row.proxyPid);
      const result = await row.run(plan.durationSec);
      const cpu = cpuSeconds(row.proxyPid) - cpuBefore;
      const seen = (await originCount()) - before;
      out[i]!.runs.push(result);
      // The client's own warm-up and start-up fall inside this window too: a slight overestimate, the same for every row.
      out[i]!.proxyCpuUsPerReq.push(result.responses > 0 ? (cpu * 1e6) / result.responses : Number.NaN);
      const loadSec = result.durationSec * (result.responses / Math.max(1, result.ok + result.non2xx)); // + the client's warm-up
      out[i]!.proxyCpuPercent.push((cpu / loadSec) * 100);
      out[i]!.originPerResponse.push(result.responses > 0 ? seen / result.responses : Number.NaN);
      console.error(`[${plan.label}] round ${round}/${plan.rounds} ${row.name}: ${fmt(result.reqPerSec, 0)} req/s, p99 ${fmt(result.p99Ms)} ms, errors ${result.errors + result.non2xx}`);
    }
  }
  return out;
}

export interface RowSummary {
  row: string;
  reqPerSec: number;
  ratio: number;
  p50Ms: number;
  p99Ms: number;
  p99Ratio: number;
  errors: number;
  non2xx: number;
  originPerResponse: number;
  proxyCpuPercent: number;
  proxyCpuUsPerReq: number;
  otherCpuMax: number;
  minReqPerSec: number;
  maxReqPerSec: number;
  runs: LoadResult[];
  skipped?: string;
}

/** Medians over runs; ratios are medians of per-round ratios to `baseline` (the first row when not named). */
export function summarize(rows: readonly RowRuns[], baseline = rows[0]?.name): RowSummary[] {
  const base = rows.find((r) => r.name === baseline);
  const rps = (r: RowRuns): number[] => r.runs.map((x) => x.reqPerSec);
  const p99 = (r: RowRuns): number[] => r.runs.map((x) => x.p99Ms);
  return rows.map((r) => ({
    row: r.name,
    reqPerSec: median(rps(r)),
    ratio: base ? pairedRatio(rps(r), rps(base)) : Number.NaN,
    p50Ms: median(r.runs.map((x) => x.p50Ms)),
    p99Ms: median(p99(r)),
    p99Ratio: base ? pairedRatio(p99(r), p99(base)) : Number.NaN,
    errors: sum(r.runs.map((x) => x.errors)),
    non2xx: sum(r.runs.map((x) => x.non2xx)),
    originPerResponse: median(r.originPerResponse),
    proxyCpuPercent: median(r.proxyCpuPercent),
    proxyCpuUsPerReq: median(r.proxyCpuUsPerReq),
    otherCpuMax: max(r.otherCpuBefore),
    minReqPerSec: Math.min(...rps(r)),
    maxReqPerSec: max(rps(r)),
    runs: r.runs,
    ...(r.skipped ? { skipped: r.skipped } : {}),
  }));
}

export const SUMMARY_HEADERS = ['load', 'row', 'req/s', '×direct', 'p50 ms', 'p99 ms', 'p99 ×direct', 'errors', 'non-2xx', 'proxy CPU %', 'proxy µs CPU/req', 'origin req/resp', 'other CPU % before (max)', 'req/s min–max'];

export function summaryCells(load: string, s: RowSummary): (string | number)[] {
  if (s.skipped) return [load, `${s.row} (not measured: ${s.skipped})`, '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', '–'];
  return [load, s.row, fmt(s.reqPerSec, 0), fmt(s.ratio, 2), fmt(s.p50Ms), fmt(s.p99Ms), fmt(s.p99Ratio, 2), s.errors, s.non2xx,
    fmt(s.proxyCpuPercent, 0), fmt(s.proxyCpuUsPerReq, 0), fmt(s.originPerResponse, 2), fmt(s.otherCpuMax, 0), `${fmt(s.minReqPerSec, 0)}–${fmt(s.maxReqPerSec, 0)}`];
}
