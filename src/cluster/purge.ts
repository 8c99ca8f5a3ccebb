import type { Worker } from 'node:cluster';
import type { PurgePlan } from '../cache/purge.js';
import { Gather } from './gather.js';
import type { PurgeRequest } from './ipc.js';

/**
 * The admin endpoint's purge under --workers: the plan goes to every live worker, the counts come back and add up
 * (with one shared Redis store the first worker removes the keys and the others find none, so the sum stays right).
 * A worker that does not answer within `timeoutMs` fails the call, naming it.
 */
export class PurgeFanOut {
  private readonly gather: Gather<{ count: number; error: string | undefined }>;

  constructor(private readonly timeoutMs: number) {
    this.gather = new Gather(timeoutMs);
  }

  async run(plan: PurgePlan, workers: readonly Worker[]): Promise<number> {
    const { answers, missing } = await this.gather.run(workers, (id): PurgeRequest => ({ portico: 'purge', id, plan }));
    if (missing.length > 0) throw new Error(`purge: worker(s) ${missing.join(', ')} did not answer within ${this.timeoutMs} ms`);
    const errors = answers.flatMap((a) => (a.error === undefined ? [] : [a.error]));
    if (errors.length > 0) throw new Error(`purge: ${errors.join('; ')}`);
    return answers.reduce((sum, a) => sum + a.count, 0);
  }

  answer(worker: Worker, id: number, count: number, error: string | undefined): void {
    this.gather.answer(worker, id, { count, error });
  }
}
