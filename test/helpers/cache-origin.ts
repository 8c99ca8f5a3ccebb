import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import type { ProxyEvent } from '../../src/core/events.js';
import { waitFor, type TestProxy } from './proxy.js';

export type Route = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

/** An origin whose routes are set per test and that counts every request that reaches it (a cache hit must not). */
export interface CountingOrigin {
  readonly url: string;
  route(path: string, handler: Route): void;
  hits(path: string): number;
  /** Request headers of the last request for a path. */
  last(path: string): IncomingHttpHeaders | undefined;
  close(): Promise<void>;
}

export async function startCountingOrigin(): Promise<CountingOrigin> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const last = new Map<string, IncomingHttpHeaders>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    last.set(path, req.headers);
    req.resume();
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404).end('no route\n');
      return;
    }
    req.once('end', () => handler(req, res, n));
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    route: (path, handler) => routes.set(path, handler),
    hits: (path) => hits.get(path) ?? 0,
    last: (path) => last.get(path),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Reply { status: number; headers: IncomingHttpHeaders; body: Buffer }

/** One absolute-form request through the proxy (no keep-alive, so each call is independent). */
export function viaProxy(proxyUrl: string, target: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.hostname, port: proxy.port, method: opts.method ?? 'GET', path: target, headers: { ...opts.headers, connection: 'close' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Route helper: a 200 with fixed headers and a body naming the hit number (so a stale copy is recognisable). */
export function fixed(headers: Record<string, string>, body = (n: number) => `body ${n}`): Route {
  return (_req, res, n) => {
    const b = Buffer.from(body(n));
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(b.length), ...headers });
    res.end(b);
  };
}

/**
 * Checks a hit's `Cache-Status: portico; hit; ttl=N` against the wall clock instead of a fixed window: the entry was
 * stored no earlier than `storedAfter` (ms epoch) with `maxAge` seconds of freshness, so N may have dropped by the
 * whole seconds elapsed since then, plus one for the origin's whole-second Date header. A busy CI machine can take
 * over a second between two requests; a fixed `59|60` then fails on a correct cache.
 */
export function expectHitTtl(cacheStatus: string | string[] | undefined, maxAge: number, storedAfter: number): void {
  const m = /^portico; hit; ttl=(\d+)$/.exec(String(cacheStatus));
  if (!m) throw new Error(`expected a hit with a ttl, got Cache-Status ${String(cacheStatus)}`);
  const ttl = Number(m[1]);
  const elapsed = Math.ceil((Date.now() - storedAfter) / 1000);
  if (ttl > maxAge || ttl < maxAge - elapsed - 1) {
    throw new Error(`ttl=${ttl} outside [${maxAge - elapsed - 1}, ${maxAge}] (${elapsed} s since the entry was stored)`);
  }
}

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;

/**
 * A test proxy's finished exchanges by URL (`proxy` is read at each call, so the watch can be made before the proxy
 * starts): the cache note of the nth exchange once it has ended, and waiting until n have ended. The memory store
 * has a response once its body has passed through, before its flow ends, so the next request may count on the entry
 * from there on instead of after a fixed pause a slow machine can outrun.
 */
export function flowWatch(proxy: () => TestProxy): {
  flowsOf(url: string): FlowEnd[];
  cacheNote(url: string, nth?: number): Promise<string | undefined>;
  ended(url: string, n: number): Promise<void>;
} {
  const flowsOf = (url: string): FlowEnd[] =>
    proxy().events.filter((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url === url);
  return {
    flowsOf,
    cacheNote: (url, nth = 0) => waitFor(() => {
      const flows = flowsOf(url);
      return flows[nth] ? (flows[nth].flow.notes.cache ?? 'none') : undefined;
    }),
    ended: async (url, n) => {
      await waitFor(() => flowsOf(url).length >= n || undefined);
    },
  };
}
