import { describe, expect, it } from 'vitest';
import { l7TargetLines, l7Verdicts } from '../../bench/lib/l7-target.js';
import type { LoadResult } from '../../bench/lib/load-result.js';
import type { RowRuns } from '../../bench/lib/rounds.js';

function run(reqPerSec: number, p99Ms: number): LoadResult {
  return { reqPerSec, ok: reqPerSec * 5, errors: 0, non2xx: 0, p50Ms: p99Ms / 2, p99Ms, durationSec: 5, responses: reqPerSec * 5 };
}

function rowRuns(name: string, runs: LoadResult[], skipped?: string): RowRuns {
  const n = runs.length;
  return { name, runs, originPerResponse: Array(n).fill(1), proxyCpuUsPerReq: Array(n).fill(0), proxyCpuPercent: Array(n).fill(0), otherCpuBefore: Array(n).fill(0), ...(skipped ? { skipped } : {}) };
}

describe('issue 6 target verdict', () => {
  it('takes the median of per-round ratios, so one disturbed round does not decide', () => {
    const nginx = rowRuns('nginx', [run(20_000, 2), run(10_000, 4), run(20_000, 2)]);
    // Round 2 slowed both rows (the machine was busy): ratios 0.55, 0.6, 0.45 → median 0.55.
    const portico = rowRuns('portico reverse', [run(11_000, 3), run(6_000, 9), run(9_000, 3)]);
    const [v] = l7Verdicts([nginx, portico], 'nginx', ['portico reverse']);
    expect(v?.rateShare).toBeCloseTo(0.55, 6);
    expect(v?.rateMet).toBe(true);
    // p99 ratios 1.5, 2.25, 1.5 → median 1.5.
    expect(v?.p99Factor).toBeCloseTo(1.5, 6);
    expect(v?.p99Met).toBe(true);
  });

  it('says not met for each half on its own', () => {
    const nginx = rowRuns('nginx', [run(20_000, 2)]);
    const slow = rowRuns('a', [run(9_000, 3)]);
    const jittery = rowRuns('b', [run(12_000, 4.2)]);
    const verdicts = l7Verdicts([nginx, slow, jittery], 'nginx', ['a', 'b']);
    expect(verdicts.map((v) => [v.row, v.rateMet, v.p99Met])).toEqual([['a', false, true], ['b', true, false]]);
    expect(l7TargetLines('1k', [nginx, slow], 'nginx', ['a'])).toEqual(["1k, a: 45.0% of nginx's req/s (not met), p99 1.50× nginx's (met)"]);
  });

  it('the bounds are inclusive: exactly half the rate and exactly twice the p99 meet the target', () => {
    const verdicts = l7Verdicts([rowRuns('nginx', [run(20_000, 2)]), rowRuns('a', [run(10_000, 4)])], 'nginx', ['a']);
    expect(verdicts[0]).toMatchObject({ rateMet: true, p99Met: true });
  });

  it('gives no verdict without a measured nginx row, and skips rows that were not measured', () => {
    const portico = rowRuns('portico reverse', [run(10_000, 3)]);
    expect(l7Verdicts([portico], 'nginx', ['portico reverse'])).toEqual([]);
    expect(l7Verdicts([rowRuns('nginx', [], 'no 2xx response in the warm-up'), portico], 'nginx', ['portico reverse'])).toEqual([]);
    expect(l7Verdicts([rowRuns('nginx', [run(20_000, 2)]), rowRuns('portico reverse', [], 'no 2xx')], 'nginx', ['portico reverse'])).toEqual([]);
  });
});
