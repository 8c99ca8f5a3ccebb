import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import pino from 'pino';
import { mergeConfig, validateConfig, type PlainObject } from '../../src/config/load.js';
import type { ProxyEvent } from '../../src/core/events.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { startReverse, type ReverseProxy } from '../../src/reverse/server.js';

export interface TestBackend {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  hits: number;
  /** Status /healthz answers (flip it to fail checks). */
  health: number;
  close(): Promise<void>;
}

/** A real backend on an ephemeral loopback port: answers its name, /healthz with `health`, counts hits. */
export async function startBackend(name: string, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestBackend> {
  const sockets = new Set<Socket>();
  const b: TestBackend = { name, port: 0, address: '', hits: 0, health: 200, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') { res.statusCode = b.health; res.end(); return; }
    b.hits++;
    if (handler) return handler(req, res);
    res.setHeader('X-Seen-XFF', req.headers['x-forwarded-for'] ?? '');
    res.end(`${name} ${req.url ?? ''}`);
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return Object.assign(b, {
    port, address: `127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}

export interface TestReverse extends ReverseProxy { readonly events: ProxyEvent[] }

export async function startTestReverse(config: PlainObject): Promise<TestReverse> {
  const cfg = validateConfig(reverseConfigSchema, mergeConfig({ listen: '127.0.0.1:0', log: { level: 'silent' } }, config), 'test');
  const proxy = await startReverse(cfg, { log: pino({ level: process.env.PORTICO_TEST_LOG ?? 'silent' }) });
  const events: ProxyEvent[] = [];
  proxy.bus.subscribe((e) => events.push(e));
  return Object.assign(proxy, { events });
}
