import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Drain } from './drain.js';

export interface Running {
  server: Server;
  drain: Drain;
  blindTunnels: Set<Socket>;
  interceptedTunnels: Set<Socket>;
  /** Closed last, after the sockets: pipeline stages, upstream pools, the issuer's pending disk writes. */
  closers: Array<() => Promise<void> | void>;
}

/**
 * Graceful stop: no new connections, idle keep-alive connections closed, in-flight exchanges and blind tunnels get
 * up to graceMs, intercepted tunnels are closed once no request is in flight, then everything is destroyed.
 */
export async function shutdown(r: Running, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => r.server.close(() => resolve()));
  r.server.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  await r.drain.idle(graceMs);
  for (const s of r.interceptedTunnels) s.destroy();
  while (r.blindTunnels.size > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  for (const s of r.blindTunnels) s.destroy();
  r.server.closeAllConnections();
  await closed;
  for (const close of r.closers) await close();
}
