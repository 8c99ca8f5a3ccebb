import type { Worker } from 'node:cluster';
import type { PurgePlan } from '../cache/purge.js';
import type { PurgeRequest } from './ipc.js';

interface Pending { waiting: Set<number>; total: number; errors: string[]; done: (err: Error | undefined, total: number) => void }

/**
 * The admin endpoint's purge under --workers: the plan goes to every live worker, the counts come back and add up
 * (with one shared Redis store the first worker removes the keys and the others find none, so the sum stays right).
 * A worker that does not answer within `timeoutMs` fails the call, naming it.
 */
export class PurgeFanOut {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly timeoutMs: number) {}

  run(plan: PurgePlan, workers: readonly Worker[]): Promise<number> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        reject(new Error(`purge: worker(s) ${[...(p?.waiting ?? [])].join(', ')} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const entry: Pending = {
        waiting: new Set(workers.map((w) => w.id)), total: 0, errors: [],
        done: (err, total) => {
          clearTimeout(timer);
          this.pending.delete(id);
          if (err) reject(err);
          else resolve(total);
        },
      };
      if (entry.waiting.size === 0) return entry.done(undefined, 0);
      this.pending.set(id, entry);
      const msg: PurgeRequest = { portico: 'purge', id, plan };
      for (const w of workers) w.send(msg);
    });
  }

  answer(worker: Worker, id: number, count: number, error: string | undefined): void {
    const p = this.pending.get(id);
    if (!p || !p.waiting.delete(worker.id)) return;
    p.total += count;
    if (error !== undefined) p.errors.push(error);
    if (p.waiting.size > 0) return;
    p.done(p.errors.length > 0 ? new Error(`purge: ${p.errors.join('; ')}`) : undefined, p.total);
  }
}
