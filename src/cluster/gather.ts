import type { Worker } from 'node:cluster';

/** What came back from one request sent to every worker: the answers, and the ids of workers that stayed silent. */
export interface Gathered<T> {
  readonly answers: T[];
  readonly missing: number[];
}

interface Pending<T> { waiting: Set<number>; answers: T[]; done: () => void }

/**
 * One request fanned out to every live worker over IPC, the answers gathered by request id. Resolves once every worker
 * answered, or after `timeoutMs` with what arrived (`missing` names the rest): the caller decides whether silence is a
 * failure (the purge call) or a partial answer (a /metrics scrape must not hang on one stuck worker).
 */
export class Gather<T> {
  private nextId = 0;
  private readonly pending = new Map<number, Pending<T>>();

  constructor(private readonly timeoutMs: number) {}

  run(workers: readonly Worker[], message: (id: number) => unknown): Promise<Gathered<T>> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const entry: Pending<T> = {
        waiting: new Set(workers.map((w) => w.id)), answers: [],
        done: () => {
          clearTimeout(timer);
          this.pending.delete(id);
          resolve({ answers: entry.answers, missing: [...entry.waiting] });
        },
      };
      const timer = setTimeout(entry.done, this.timeoutMs);
      if (entry.waiting.size === 0) return entry.done();
      this.pending.set(id, entry);
      const msg = message(id);
      for (const w of workers) w.send(msg as object);
    });
  }

  /** A worker's answer; a duplicate, a late one or one for an unknown id is ignored. */
  answer(worker: Worker, id: number, value: T): void {
    const p = this.pending.get(id);
    if (!p || !p.waiting.delete(worker.id)) return;
    p.answers.push(value);
    if (p.waiting.size === 0) p.done();
  }
}
