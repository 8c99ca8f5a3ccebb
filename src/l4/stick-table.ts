/**
 * HAProxy-style stick table: client key (source IP) → backend id, forgotten after `ttlMs` without use. An entry
 * survives health flaps: while its backend is down the client is sent elsewhere *without* rewriting the entry, so it
 * returns to its backend once that is up again. Only idle expiry, the size bound and `forget` (the backend left the
 * pool on reload) remove entries. Pure: time is passed in.
 */
export interface StickOptions {
  /** An entry unused this long is dropped (HAProxy `expire`, 30 min). */
  readonly ttlMs: number;
  /** Entries kept at most; the least recently used goes first (HAProxy `size`). */
  readonly maxEntries: number;
}

export const DEFAULT_STICK: StickOptions = { ttlMs: 30 * 60_000, maxEntries: 100_000 };

interface Entry { backend: string; touchedAt: number }

export class StickTable {
  /** Insertion order is last-use order: touching deletes and re-inserts, so expiry walks from the front. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: StickOptions = DEFAULT_STICK) {}

  get size(): number { return this.entries.size; }

  /** The backend this key sticks to, or undefined (none, or expired: then it is removed). Does not refresh. */
  lookup(key: string, now: number): string | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.touchedAt >= this.opts.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.backend;
  }

  /** Records (or refreshes) key → backend at `now`. */
  stick(key: string, backend: string, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { backend, touchedAt: now });
    if (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Refreshes the idle clock of an entry that still names `backend` (a connection to it just ended). */
  touch(key: string, backend: string, now: number): void {
    const e = this.entries.get(key);
    if (e !== undefined && e.backend === backend) this.stick(key, backend, now);
  }

  /** Drops every expired entry; returns how many. */
  sweep(now: number): number {
    let removed = 0;
    for (const [key, e] of this.entries) {
      if (now - e.touchedAt < this.opts.ttlMs) break; // the rest were used later
      this.entries.delete(key);
      removed++;
    }
    return removed;
  }

  /** Drops the entries of a backend that left the pool. */
  forget(backend: string): void {
    for (const [key, e] of this.entries) if (e.backend === backend) this.entries.delete(key);
  }

  /** Copies another table's live entries (hot reload keeps the clients where they were). */
  inherit(other: StickTable, keep: (backend: string) => boolean): void {
    for (const [key, e] of other.entries) if (keep(e.backend)) this.entries.set(key, { ...e });
  }
}
