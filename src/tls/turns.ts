import { setImmediate } from 'node:timers';

/**
 * Runs CPU-bound jobs one per event-loop turn. Signing a leaf and building its SecureContext cost about 1.5 ms;
 * a burst of 100 new hosts done back to back would hold the loop for ~200 ms and stall every other socket.
 * Queued, each turn does one job and then lets timers and I/O run. `setImmediate` comes from `node:timers`
 * rather than the global so that fake timers in tests cannot freeze certificate issuance.
 */
export class TurnQueue {
  private readonly jobs: Array<() => void> = [];
  private scheduled = false;

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push(() => {
        try {
          resolve(work());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.jobs.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.jobs.shift()?.();
      this.schedule();
    });
  }
}
