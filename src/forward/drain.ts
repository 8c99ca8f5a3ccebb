/** Counts in-flight exchanges so shutdown can wait for them (bounded by the grace period). */
export class Drain {
  private active = 0;
  private waiters: Array<() => void> = [];

  begin(): void {
    this.active++;
  }

  end(): void {
    if (--this.active === 0) for (const w of this.waiters.splice(0)) w();
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves true when nothing is in flight, false when the time ran out first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
