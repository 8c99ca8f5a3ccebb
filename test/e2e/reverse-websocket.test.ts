import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { waitFor } from '../helpers/proxy.js';
import { startTestReverse } from '../helpers/reverse.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

async function wsBackend(name: string): Promise<{ port: number }> {
  const server = createServer((_req, res) => res.end(name));
  const wss = new WebSocketServer({ server, handleProtocols: (p) => [...p][0] ?? false });
  wss.on('connection', (ws, req) => {
    ws.send(`${name} ${req.url ?? ''} ${ws.protocol} xff=${String(req.headers['x-forwarded-for'])}`);
    ws.on('message', (data) => ws.send(`${name} echo ${String(data)}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(async () => { wss.close(); server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); });
  return { port: (server.address() as AddressInfo).port };
}

describe('reverse proxy WebSocket upgrades', () => {
  it('go to the picked backend with the route rewrite, subprotocol and forwarding headers, and end in one flow', async () => {
    const [a, b] = await Promise.all([wsBackend('a'), wsBackend('b')]);
    const p = await startTestReverse({
      pools: { ws: { backends: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`] } },
      routes: [{ id: 'live', path: '/live', stripPrefix: true, pool: 'ws' }],
    });
    cleanup.push(() => p.close(500));
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      const ws = new WebSocket(`${p.url.replace('http', 'ws')}/live/feed`, ['chat.v1']);
      const hello = String((await once(ws, 'message'))[0]);
      expect(hello).toMatch(/^[ab] \/feed chat\.v1 xff=127\.0\.0\.1$/);
      names.push(hello[0] as string);
      ws.send('ping');
      expect(String((await once(ws, 'message'))[0])).toBe(`${hello[0]} echo ping`);
      ws.close();
      await once(ws, 'close');
    }
    expect(names.sort()).toEqual(['a', 'b']);
    const flow = await waitFor(() => p.events.find((e) => e.type === 'flow.end'));
    expect(flow.type === 'flow.end' && flow.flow.notes).toMatchObject({ route: 'live', pool: 'ws', attempts: 1 });
    expect(flow.type === 'flow.end' && flow.flow.status).toBe(101);
  });
});
