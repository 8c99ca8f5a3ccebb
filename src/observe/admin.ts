import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { purgePlan, type PurgePlan } from '../cache/purge.js';
import type { EventBus, ProxyEvent, Subscription } from '../core/events.js';
import { bearerCheck, readJson, sendJson, sendText } from './admin-http.js';
import { toHar } from './har.js';
import type { Metrics } from './metrics.js';
import type { FlowRing } from './ring.js';
import { SseReader, sseFrame } from './sse.js';

export interface AdminProviders {
  readonly mode: string;
  readonly version: string;
  /** ForwardProxy.purgeCache; absent in modes without a cache (→ 404). */
  purgeCache?(plan: PurgePlan): Promise<number>;
  /** Balancer state; `{pools: []}` until L7/L4 provide one. */
  upstreams?(): unknown[];
  /**
   * Awaited before /metrics and /upstreams are served, to bring live state held elsewhere up to date (the cluster
   * primary asks its workers); the gauges and upstreams() then read what it gathered.
   */
  refresh?(): Promise<void>;
}

export interface AdminOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: string | undefined;
  readonly sseQueueEvents: number;
  readonly now?: () => number;
}

export interface AdminServer {
  readonly url: string;
  /** Frames SSE readers lost (their queues were full or the bus dropped for them). */
  dropped(): number;
  close(): Promise<void>;
}

interface State { bus: EventBus; ring: FlowRing; metrics: Metrics; p: AdminProviders; o: AdminOptions; startedAt: number; dropped: number; readers: Set<Subscription>; frames: WeakMap<ProxyEvent, string> }

const DEFAULT_FLOWS = 1000;
/** Admin clients at once (each SSE reader holds a bus subscription and a bounded queue). */
const MAX_CONNECTIONS = 64;
const MAX_PURGE_BODY = 64 * 1024;

/**
 * The admin endpoint (off by default, loopback by default): /metrics, /flows, /events (SSE), /health, /har,
 * /upstreams, POST /cache/purge. Everything it serves is read from observers (ring, metrics, the bus), never from
 * the data path.
 */
export async function startAdmin(bus: EventBus, ring: FlowRing, metrics: Metrics, p: AdminProviders, o: AdminOptions): Promise<AdminServer> {
  const now = o.now ?? Date.now;
  const state: State = { bus, ring, metrics, p, o, startedAt: now(), dropped: 0, readers: new Set(), frames: new WeakMap() };
  const authorized = bearerCheck(o.token);
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer realm="portico-admin"');
      return sendJson(res, 401, { error: 'unauthorized' });
    }
    route(state, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(o.port, o.host);
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    dropped: () => state.dropped,
    close: async () => {
      for (const r of state.readers) r.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

async function route(s: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const get = req.method === 'GET' || req.method === 'HEAD';
  switch (url.pathname) {
    case '/metrics':
      if (!get) return notAllowed(res, 'GET');
      await s.p.refresh?.();
      return sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', s.metrics.render());
    case '/flows': {
      if (!get) return notAllowed(res, 'GET');
      const limit = Number(url.searchParams.get('limit') ?? DEFAULT_FLOWS);
      if (!Number.isInteger(limit) || limit < 0) return sendJson(res, 400, { error: 'limit must be a non-negative integer' });
      return sendJson(res, 200, s.ring.list(limit));
    }
    case '/events':
      if (!get) return notAllowed(res, 'GET');
      return events(s, res);
    case '/health':
      if (!get) return notAllowed(res, 'GET');
      return sendJson(res, 200, { status: 'ok', mode: s.p.mode, uptimeS: Math.round(((s.o.now ?? Date.now)() - s.startedAt) / 1000) });
    case '/upstreams':
      if (!get) return notAllowed(res, 'GET');
      await s.p.refresh?.();
      return sendJson(res, 200, { pools: s.p.upstreams?.() ?? [] });
    case '/har':
      if (!get) return notAllowed(res, 'GET');
      return sendJson(res, 200, toHar(s.ring.list(), s.p.version));
    case '/cache/purge':
      if (req.method !== 'POST') return notAllowed(res, 'POST');
      return purge(s, req, res);
    default:
      return sendJson(res, 404, { error: 'not found', paths: ['/metrics', '/flows', '/events', '/health', '/upstreams', '/har', '/cache/purge'] });
  }
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendJson(res, 405, { error: `use ${allow}` });
}

/** A live SSE stream: one bus subscription per reader, bounded both in the bus and in the reader. */
function events(s: State, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write(': portico events\n\n');
  const reader = new SseReader(res, s.o.sseQueueEvents);
  let busLost = 0;
  const sub = s.bus.subscribe((event) => {
    const lost = sub.dropped();
    if (lost > busLost) {
      reader.lose(lost - busLost);
      s.dropped += lost - busLost;
      busLost = lost;
    }
    let frame = s.frames.get(event); // every reader gets the same event object: stringify it once
    if (frame === undefined) {
      frame = sseFrame(event);
      if (frame === undefined) return;
      s.frames.set(event, frame);
    }
    const before = reader.totalDropped;
    reader.offer(frame);
    s.dropped += reader.totalDropped - before;
  }, { buffer: s.o.sseQueueEvents });
  s.readers.add(sub);
  const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
  heartbeat.unref();
  const end = (): void => {
    clearInterval(heartbeat);
    sub.close();
    s.readers.delete(sub);
  };
  res.once('close', end); // the reader went away (or the server closed): unsubscribe at once
}

async function purge(s: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!s.p.purgeCache) return sendJson(res, 404, { error: 'this mode has no cache' });
  let body: unknown;
  try {
    body = await readJson(req, MAX_PURGE_BODY);
  } catch (err) {
    return sendJson(res, 400, { error: (err as Error).message });
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as { url?: unknown; host?: unknown; all?: unknown };
  const plan = purgePlan({
    url: typeof b.url === 'string' ? b.url : undefined,
    host: typeof b.host === 'string' ? b.host : undefined,
    all: b.all === true,
  });
  if (typeof plan === 'string') return sendJson(res, 400, { error: plan.replace('URL, --host HOST or --all', '{"url"}, {"host"} or {"all":true}') });
  const purged = await s.p.purgeCache(plan);
  sendJson(res, 200, { purged, what: plan.what });
}
