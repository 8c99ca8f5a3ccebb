import { H1Pool, type H1PoolOptions } from './pool.js';
import type { H1DispatchOptions, H1Handler } from './types.js';

export type H1AgentOptions = Omit<H1PoolOptions, 'protocol' | 'hostname' | 'port' | 'name' | 'onEmpty'>;

/**
 * One H1Pool per origin (scheme, host, port), made on first use and dropped when it has neither connections nor
 * waiting requests: the forward proxy's many-origin client, as undici's Agent was.
 */
export class H1Agent {
  private readonly pools = new Map<string, H1Pool>();
  private closing = false;

  constructor(private readonly options: H1AgentOptions) {}

  /** Sends on the pool for `opts.origin` (a URL's origin: `http://host:port`). */
  dispatch(opts: H1DispatchOptions & { readonly origin: string }, handler: H1Handler): boolean {
    return (this.pools.get(opts.origin) ?? this.newPool(opts.origin)).dispatch(opts, handler);
  }

  private newPool(key: string): H1Pool {
    const url = new URL(key);
    const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
    const port = url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const pool: H1Pool = new H1Pool({
      ...this.options, protocol, hostname, port, name: key,
      onEmpty: () => { if (!this.closing && this.pools.get(key) === pool) this.pools.delete(key); },
    });
    this.pools.set(key, pool);
    return pool;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
