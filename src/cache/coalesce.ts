interface Pending { promise: Promise<void>; release: () => void }

/**
 * Request coalescing (collapsed forwarding): the first miss for a key claims it and goes to the origin; later misses
 * wait until it is released (stored or found uncacheable) or at most `maxWaitMs`, then look again. A claim also
 * expires after maxWaitMs on its own, so a lost release cannot stall a key. One instance per cache stage.
 */
export class Coalescer {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly maxWaitMs: number) {}

  /** Claims the key; undefined when another request already holds it. The returned release is idempotent. */
  claim(key: string): (() => void) | undefined {
    if (this.maxWaitMs <= 0 || this.pending.has(key)) return undefined;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => { resolve = r; });
    const timer = setTimeout(() => release(), this.maxWaitMs);
    const release = (): void => {
      clearTimeout(timer);
      if (this.pending.get(key)?.promise === promise) this.pending.delete(key);
      resolve();
    };
    this.pending.set(key, { promise, release });
    return release;
  }

  /** Waits for the key's holder, bounded by maxWaitMs; false at once when nobody holds it. */
  async wait(key: string): Promise<boolean> {
    const p = this.pending.get(key);
    if (!p) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p.promise, new Promise<void>((r) => { timer = setTimeout(r, this.maxWaitMs); })]);
    clearTimeout(timer);
    return true;
  }

  close(): void {
    for (const p of [...this.pending.values()]) p.release();
  }
}
