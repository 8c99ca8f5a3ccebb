import type { HealthState, ProxyEvent } from '../core/events.js';

export interface BackendRow {
  pool: string;
  backend: string;
  state: HealthState | string;
  reason?: string;
  active?: number;
  ewmaMs?: number;
  /** The latest health transitions, newest last (at most HISTORY). */
  history: string[];
}

const HISTORY = 5;
const MAX_BACKENDS = 1_000;

type Health = Extract<ProxyEvent, { type: 'backend.health' }>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** L7/L4 pool members, fed by backend.health events and by the admin endpoint's GET /upstreams. */
export class Backends {
  private readonly rows = new Map<string, BackendRow>();

  private row(pool: string, backend: string): BackendRow | undefined {
    const key = `${pool}\u0000${backend}`;
    let row = this.rows.get(key);
    if (!row && this.rows.size < MAX_BACKENDS) {
      row = { pool, backend, state: 'unknown', history: [] };
      this.rows.set(key, row);
    }
    return row;
  }

  health(ev: Health, at: number): void {
    const row = this.row(ev.pool, ev.backend);
    if (!row) return;
    row.state = ev.state;
    row.reason = ev.reason;
    row.history.push(`${new Date(at).toISOString().slice(11, 19)} ${ev.state}`);
    if (row.history.length > HISTORY) row.history.shift();
  }

  /** Merges `{pools:[{name, backends:[{id|address, state|health, active, ewmaMs}]}]}`, ignoring what it can't read. */
  upstreams(body: unknown): void {
    const pools = (body as { pools?: unknown } | null)?.pools;
    if (!Array.isArray(pools)) return;
    for (const p of pools as Array<Record<string, unknown>>) {
      const pool = str(p?.name) ?? str(p?.id);
      if (pool === undefined || !Array.isArray(p.backends)) continue;
      for (const b of p.backends as Array<Record<string, unknown>>) {
        const id = str(b?.id) ?? str(b?.address) ?? str(b?.url);
        const row = id === undefined ? undefined : this.row(pool, id);
        if (!row) continue;
        row.state = str(b.state) ?? str(b.health) ?? row.state;
        row.active = num(b.active) ?? row.active;
        row.ewmaMs = num(b.ewmaMs) ?? row.ewmaMs;
      }
    }
  }

  list(): BackendRow[] {
    return [...this.rows.values()];
  }
}
