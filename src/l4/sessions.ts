/**
 * UDP sessions keyed by the client's `ip:port`, each ended after `idleMs` without a datagram either way. Pure over
 * an injected time; the socket shell (udp.ts) calls `expire` on a timer and closes what it returns.
 */
export interface Timed { lastSeen: number }

export class SessionTable<S extends Timed> {
  /** Insertion order is last-activity order only after `seen`; expire scans all (sessions are few per listener). */
  private readonly sessions = new Map<string, S>();

  constructor(private readonly idleMs: number, private readonly max: number) {}

  get size(): number { return this.sessions.size; }

  get(key: string): S | undefined { return this.sessions.get(key); }

  /** Adds a session; false (nothing added) when `max` sessions are open (0 = unlimited). */
  add(key: string, s: S): boolean {
    if (this.max > 0 && this.sessions.size >= this.max) return false;
    this.sessions.set(key, s);
    return true;
  }

  delete(key: string): void { this.sessions.delete(key); }

  /** Removes and returns every session idle for `idleMs` or more at `now`. */
  expire(now: number): Array<[string, S]> {
    const out: Array<[string, S]> = [];
    for (const [key, s] of this.sessions) {
      if (now - s.lastSeen >= this.idleMs) out.push([key, s]);
    }
    for (const [key] of out) this.sessions.delete(key);
    return out;
  }

  /** Removes and returns all sessions (shutdown). */
  drain(): Array<[string, S]> {
    const out = [...this.sessions];
    this.sessions.clear();
    return out;
  }
}
