import type { Worker } from 'node:cluster';
import { Gather } from './gather.js';
import type { StatsRequest, WorkerStats } from './ipc.js';
import { mergeWorkerStats, type MergedStats } from './merge-stats.js';

/**
 * The workers' gauges and pool state as the primary's admin endpoint serves them: asked for over IPC when /metrics
 * or /upstreams is read (nothing flows while nobody looks), merged by mergeWorkerStats. Concurrent reads share one
 * round trip.
 */
export class WorkerStatsView {
  merged: MergedStats = mergeWorkerStats([]);
  private readonly gather: Gather<WorkerStats>;
  private inProgress: Promise<void> | undefined;

  constructor(timeoutMs: number) {
    this.gather = new Gather(timeoutMs);
  }

  refresh(workers: readonly Worker[]): Promise<void> {
    this.inProgress ??= this.gather.run(workers, (id): StatsRequest => ({ portico: 'stats-request', id })).then(({ answers }) => {
      this.merged = mergeWorkerStats(answers);
    }).finally(() => { this.inProgress = undefined; });
    return this.inProgress;
  }

  answer(worker: Worker, id: number, value: WorkerStats): void {
    this.gather.answer(worker, id, value);
  }
}
