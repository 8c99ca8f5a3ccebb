import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface SeenRequest { method: string; url: string; rawHeaders: string[]; bodyBytes: number; remotePort: number }

export interface Origin {
  readonly port: number;
  readonly url: string;
  readonly seen: SeenRequest[];
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections(): number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** Default routes: /echo (JSON of what arrived), /bytes/N (N bytes streamed), /hang (never answers), /status/N. */
export const defaultHandler: Handler = (req, res, body) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname);
  if (bytes) return streamBytes(res, Number(bytes[1]));
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) {
    res.writeHead(Number(status[1]), { 'Content-Type': 'text/plain' });
    res.end(`status ${status[1]}\n`);
    return;
  }
  if (url.pathname === '/hang') return;
  const payload = JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body: body.toString('utf8') });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Connection-Test': 'x', 'X-Hop': 'secret' });
  res.end(payload);
};

/** Streams `total` bytes with backpressure and a Content-Length (shared by the origins of several tests). */
export function streamBytes(res: ServerResponse, total: number): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function wire(server: Server, handler: Handler, seen: SeenRequest[]): () => number {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, bodyBytes: body.length, remotePort: req.socket.remotePort ?? 0 });
      handler(req, res, body);
    });
  });
  const wss = new WebSocketServer({ server, path: '/ws', handleProtocols: (protocols) => [...protocols][0] ?? false });
  wss.on('connection', (ws, req) => {
    ws.send(`hello ${req.headers['sec-websocket-protocol'] ?? 'no-protocol'}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  (server as Server & { sockets?: Set<Socket> }).sockets = sockets;
  return () => connections;
}

async function finish(server: Server, scheme: 'http' | 'https', seen: SeenRequest[], connections: () => number): Promise<Origin> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port, url: `${scheme}://127.0.0.1:${port}`, seen, connections,
    close: async () => {
      server.closeAllConnections();
      for (const s of (server as Server & { sockets?: Set<Socket> }).sockets ?? []) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startHttpOrigin(handler: Handler = defaultHandler): Promise<Origin> {
  const seen: SeenRequest[] = [];
  const server = createHttp();
  const connections = wire(server, handler, seen);
  return finish(server, 'http', seen, connections);
}

export async function startHttpsOrigin(tls: { key: string; cert: string }, handler: Handler = defaultHandler): Promise<Origin> {
  const seen: SeenRequest[] = [];
  const server = createHttps({ key: tls.key, cert: tls.cert });
  const connections = wire(server, handler, seen);
  return finish(server, 'https', seen, connections);
}
