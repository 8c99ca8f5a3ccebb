/** Limits on concurrent connections (or tunnels): all clients together, and each client address. */
export interface ConnLimitConfig {
  readonly maxTotal: number;
  readonly maxPerClient: number;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly limit: 'total' | 'per-client' };

const ADMITTED: Admission = { ok: true };

/**
 * Pure bookkeeping of open connections per client address: `admit` before serving, `release` exactly once when the
 * connection closes. A client at its own limit is refused without touching anyone else's share, so one flooding
 * address cannot starve the others (HAProxy `maxconn` + a per-source `conn_cur` limit, nginx `limit_conn`).
 */
export class ConnLimiter {
  private open = 0;
  private readonly perClient = new Map<string, number>();

  constructor(private readonly limits: ConnLimitConfig) {}

  admit(client: string): Admission {
    if (this.open >= this.limits.maxTotal) return { ok: false, limit: 'total' };
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.maxPerClient) return { ok: false, limit: 'per-client' };
    this.open++;
    this.perClient.set(client, mine + 1);
    return ADMITTED;
  }

  release(client: string): void {
    const mine = this.perClient.get(client);
    if (mine === undefined) return; // never admitted (or already released): keep the counts exact
    this.open--;
    if (mine <= 1) this.perClient.delete(client);
    else this.perClient.set(client, mine - 1);
  }

  /** Open connections in total, or of one client. */
  count(client?: string): number {
    return client === undefined ? this.open : this.perClient.get(client) ?? 0;
  }

  /** Distinct client addresses holding at least one connection (the map never outgrows the open connections). */
  clients(): number {
    return this.perClient.size;
  }
}
