import type { IdleClock } from './handle-splice.js';

/** What the sweep watches: the last activity on its clock, the allowed idle time, and how to end it. */
export interface Idler {
  readonly seen: number;
  readonly idleMs: number;
  idleOut(): void;
}

/**
 * Idle timeouts for a listener's connections without a timer each: one unref'd interval every
 * min(idleMs / 4, 1 s) advances a coarse clock (`now`), which connections stamp on every read (`seen`), and ends
 * those idle for `idleMs` plus one interval (the stamp may be up to one interval old). So a connection ends between
 * `idleMs` and `idleMs` + 2 intervals after its last byte. `live` also serves the listener's shutdown.
 */
export class IdleSweep<T extends Idler> implements IdleClock {
  now: number;
  readonly live = new Set<T>();
  private timer: NodeJS.Timeout | undefined;
  private everyMs = 0;

  constructor(private readonly clock: () => number) {
    this.now = clock();
  }

  /** Runs (or re-runs at a new pace) for connections allowed `idleMs` (> 0) of silence. */
  arm(idleMs: number): void {
    const every = Math.max(1, Math.min(Math.floor(idleMs / 4), 1000));
    if (every === this.everyMs) return;
    this.close();
    this.everyMs = every;
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  sweep(): void {
    const now = (this.now = this.clock());
    const slack = this.everyMs;
    for (const x of this.live) if (x.idleMs > 0 && now - x.seen >= x.idleMs + slack) x.idleOut();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.everyMs = 0;
  }
}
