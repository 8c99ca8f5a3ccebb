import type { FlowRecord } from '../core/flow.js';

/** The last `capacity` flow records (default 10 000), for /flows, /har and `log export`; never grows past it. */
export class FlowRing {
  private readonly items: Array<FlowRecord | undefined>;
  private next = 0;
  private count = 0;

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<FlowRecord | undefined>(capacity);
  }

  push(record: FlowRecord): void {
    this.items[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** The newest `limit` records (all by default), oldest first, newest last. */
  list(limit = this.count): FlowRecord[] {
    const n = Math.max(0, Math.min(Math.floor(limit), this.count));
    const out = new Array<FlowRecord>(n);
    let i = (this.next - n + this.capacity) % this.capacity;
    for (let k = 0; k < n; k++) {
      out[k] = this.items[i] as FlowRecord;
      i = (i + 1) % this.capacity;
    }
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.next = 0;
    this.count = 0;
  }
}
