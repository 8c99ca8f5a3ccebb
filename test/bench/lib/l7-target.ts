/**
 * Issue 6's target for `portico reverse`, judged from one load's runs: req/s at least half of nginx's and p99 at most
 * twice nginx's. Pure: each figure is the median of per-round ratios (rows alternate within a round, so each ratio
 * compares runs taken seconds apart and slow drift on a shared machine cancels out).
 */
import type { RowRuns } from './rounds.js';
import { pairedRatio } from './stats.js';
import { fmt } from './table.js';

export const MIN_RATE_SHARE = 0.5;
export const MAX_P99_FACTOR = 2;

export interface L7Verdict {
  readonly row: string;
  /** Median over rounds of Portico's req/s / the peer's. */
  readonly rateShare: number;
  /** Median over rounds of Portico's p99 / the peer's. */
  readonly p99Factor: number;
  readonly rateMet: boolean;
  readonly p99Met: boolean;
}

/** The verdict for each named row against the peer row; empty when the peer or the row was not measured. */
export function l7Verdicts(runs: readonly RowRuns[], peerName: string, rows: readonly string[]): L7Verdict[] {
  const peer = measured(runs, peerName);
  if (!peer) return [];
  const out: L7Verdict[] = [];
  for (const name of rows) {
    const r = measured(runs, name);
    if (!r) continue;
    const rateShare = pairedRatio(r.runs.map((x) => x.reqPerSec), peer.runs.map((x) => x.reqPerSec));
    const p99Factor = pairedRatio(r.runs.map((x) => x.p99Ms), peer.runs.map((x) => x.p99Ms));
    out.push({ row: name, rateShare, p99Factor, rateMet: rateShare >= MIN_RATE_SHARE, p99Met: p99Factor <= MAX_P99_FACTOR });
  }
  return out;
}

/** One line per verdict, e.g. "1k keep-alive, portico reverse: 54% of nginx's req/s (met), p99 1.6× nginx's (met)". */
export function l7TargetLines(load: string, runs: readonly RowRuns[], peerName: string, rows: readonly string[]): string[] {
  return l7Verdicts(runs, peerName, rows).map((v) => `${load}, ${v.row}: ${fmt(v.rateShare * 100, 1)}% of ${peerName}'s req/s (${v.rateMet ? 'met' : 'not met'}), `
    + `p99 ${fmt(v.p99Factor, 2)}× ${peerName}'s (${v.p99Met ? 'met' : 'not met'})`);
}

function measured(runs: readonly RowRuns[], name: string): RowRuns | undefined {
  const r = runs.find((x) => x.name === name);
  return r && !r.skipped && r.runs.length > 0 ? r : undefined;
}
