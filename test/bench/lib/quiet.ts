/**
 * Shared machine: before a measured run (when the bench's own processes are idle), sample the host's busy CPU from
 * /proc/stat; while other jobs use more than `maxPercent` of one core, wait, within a budget for the whole bench run.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

function busyJiffies(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Busy CPU of the host over `ms`, in % of one core (NaN without /proc). */
export async function hostBusyPercent(ms: number): Promise<number> {
  const a = busyJiffies();
  await new Promise((r) => setTimeout(r, ms));
  const b = busyJiffies();
  if (!a || !b || b.total === a.total) return Number.NaN;
  return ((b.busy - a.busy) / (b.total - a.total)) * 100 * cpus().length;
}

export class QuietGate {
  private spentMs = 0;
  constructor(private readonly maxPercent: number, private readonly budgetMs: number) {}

  /** Waits for a quiet machine (or the end of the budget); returns the last sample (% of one core). */
  async wait(label: string): Promise<number> {
    for (;;) {
      const t0 = Date.now();
      const busy = await hostBusyPercent(500);
      if (!(busy > this.maxPercent) || this.spentMs >= this.budgetMs) return busy;
      this.spentMs += Date.now() - t0;
      console.error(`[${label}] waiting: other processes use ${busy.toFixed(0)} % of a core (budget left ${((this.budgetMs - this.spentMs) / 1000).toFixed(0)} s)`);
      await new Promise((r) => setTimeout(r, 1500));
      this.spentMs += 1500;
    }
  }
}
