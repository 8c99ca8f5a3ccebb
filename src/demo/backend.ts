import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { formatAuthority } from '../forward/target.js';
import { DEFAULT_DEMO_LIMITS, isHousekeeping, planDemoResponse, type DemoLimits, type DemoState } from './respond.js';

export interface DemoBackendOptions {
  readonly id: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly limits?: DemoLimits;
  /** Told about every answered request (not health checks): the chain counts them, tests read them. */
  readonly onServed?: (info: { id: string; method: string; target: string; status: number }) => void;
}

export interface DemoBackend {
  readonly id: string;
  readonly url: string;
  /** host:port as a reverse-proxy pool names it. */
  readonly address: string;
  readonly port: number;
  /** Requests answered (health checks and control calls excluded). */
  served(): number;
  setHealthy(healthy: boolean): void;
  /** Stops listening and drops open connections at once (a demo backend holds nothing worth draining). */
  close(): Promise<void>;
}

/**
 * A tiny HTTP server for demos and tests (`portico demo-backend`): echoes its id and the request headers as JSON,
 * `/slow?ms=N`, `/fail?status=N`, `/cacheable?max-age=N`, `/healthz`, and `POST /_demo/health?state=down|up`.
 */
export async function startDemoBackend(o: DemoBackendOptions): Promise<DemoBackend> {
  const state: DemoState = { id: o.id, healthy: true, served: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const limits = o.limits ?? DEFAULT_DEMO_LIMITS;
  const server = createServer((req, res) => handle(req, res));
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? '/';
    const plan = planDemoResponse({ method: req.method ?? 'GET', target, headers: req.headers }, state, limits);
    if (plan.setHealthy !== undefined) state.healthy = plan.setHealthy;
    const counted = !isHousekeeping(target);
    req.resume(); // a request body is read and discarded
    const write = (): void => {
      if (res.destroyed) return;
      for (const [k, v] of plan.headers) res.setHeader(k, v);
      res.statusCode = plan.status;
      res.end(req.method === 'HEAD' ? undefined : plan.body);
      if (counted) {
        state.served++;
        o.onServed?.({ id: o.id, method: req.method ?? 'GET', target, status: plan.status });
      }
    };
    if (plan.delayMs === 0) return write();
    const t = setTimeout(() => { timers.delete(t); write(); }, plan.delayMs);
    timers.add(t);
    res.once('close', () => { clearTimeout(t); timers.delete(t); });
  };
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.on('clientError', (_err, socket: Socket) => socket.destroy());
  server.listen(o.port, o.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const address = formatAuthority(o.host, port);
  return {
    id: o.id, url: `http://${address}`, address, port,
    served: () => state.served,
    setHealthy: (healthy) => { state.healthy = healthy; },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
