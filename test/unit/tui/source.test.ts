import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus } from '../../../src/core/events.js';
import { busSource } from '../../../src/tui/source.js';
import { SseParser, toTuiEvent } from '../../../src/tui/sse.js';
import { SseSource } from '../../../src/tui/sse-source.js';
import { FlowStore, type TuiEvent } from '../../../src/tui/store.js';
import { fakeClock, record, tunnel } from './fixtures.js';

describe('SseParser', () => {
  it('parses events split anywhere, CRLF/CR/LF lines, multi-line data and comments', () => {
    const text = ': hello\r\nevent: flow\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: dropped\rdata: {"dropped":3}\r\rdata: x\n\n';
    for (const size of [1, 2, 3, 7, text.length]) {
      const p = new SseParser();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...p.feed(text.slice(i, i + size)));
      expect(out).toEqual([
        { event: 'flow', data: '{"a":\n1}' },
        { event: 'dropped', data: '{"dropped":3}' },
        { event: 'message', data: 'x' },
      ]);
    }
  });

  it('maps the admin contract to store events and ignores junk', () => {
    const f = record();
    expect(toTuiEvent({ event: 'flow', data: JSON.stringify(f) })).toEqual({ type: 'flow.end', flow: f });
    const { type: _t, ...t } = tunnel();
    expect(toTuiEvent({ event: 'tunnel', data: JSON.stringify(t) })).toMatchObject({ type: 'tunnel.end', id: 't1' });
    expect(toTuiEvent({ event: 'health', data: '{"pool":"p","backend":"b","state":"up","reason":"ok"}' }))
      .toMatchObject({ type: 'backend.health', pool: 'p' });
    expect(toTuiEvent({ event: 'dropped', data: '{"dropped":4}' })).toEqual({ type: 'dropped', dropped: 4 });
    expect(toTuiEvent({ event: 'flow', data: '{nope' })).toBeUndefined();
    expect(toTuiEvent({ event: 'flow', data: '{"id":1}' })).toBeUndefined();
    expect(toTuiEvent({ event: 'other', data: '{}' })).toBeUndefined();
  });
});

describe('busSource', () => {
  it('forwards bus events and reports drops', async () => {
    const bus = createEventBus();
    const src = busSource(bus, { buffer: 2 });
    const got: TuiEvent[] = [];
    src.start((e) => got.push(e));
    for (let i = 0; i < 4; i++) bus.emit({ type: 'flow.end', flow: record({ id: `f${i}` }) });
    await sleep(5);
    bus.emit({ type: 'flow.end', flow: record({ id: 'f9' }) });
    await sleep(5);
    expect(got.map((e) => (e.type === 'flow.end' ? e.flow.id : e.type))).toEqual(['dropped', 'f0', 'f1', 'f9']);
    expect(got[0]).toEqual({ type: 'dropped', dropped: 2 });
    src.close();
    expect(bus.idle).toBe(true);
  });
});

describe('SseSource against a local admin endpoint', () => {
  let server: http.Server | undefined;
  let source: SseSource | undefined;
  afterEach(async () => {
    source?.close();
    server?.closeAllConnections();
    server?.close();
  });

  it('backfills /flows, streams /events with the bearer token, and reconnects after the stream ends', async () => {
    const auths: Array<string | undefined> = [];
    let connections = 0;
    server = http.createServer((req, res) => {
      auths.push(req.headers.authorization);
      if (req.url === '/flows?limit=5') return res.end(JSON.stringify([record({ id: 'old' })]));
      if (req.url === '/upstreams') return res.end('{"pools":[]}');
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: flow\ndata: ${JSON.stringify(record({ id: `live${connections}` }))}\n\n`);
      if (connections === 1) res.end(); // the first stream ends: the source must come back
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const store = new FlowStore({ clock: fakeClock() });
    const ids = (): string[] => store.shown().map((e) => e.flow.id);
    source = new SseSource({ url: `http://127.0.0.1:${port}`, token: 'T0K', backfill: 5, initialBackoffMs: 20 });
    source.start((e) => store.add(e));
    // Polls with a wall-clock deadline: 100 rounds of 20 ms (2 s) were a tight bound for a reconnect on a busy machine.
    for (const end = Date.now() + 10_000; ids().length < 3 && Date.now() < end;) await sleep(20);
    await sleep(50); // the backfill after the reconnect has arrived too: "old" is not shown twice
    expect(ids()).toEqual(['old', 'live1', 'live2']);
    expect(source.status()).toBe('live');
    expect(await source.upstreams()).toEqual({ pools: [] });
    expect(new Set(auths)).toEqual(new Set(['Bearer T0K']));
  });

  it('backs off while the endpoint refuses, saying why', async () => {
    server = http.createServer((_req, res) => { res.statusCode = 401; res.end(); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    source = new SseSource({ url: `http://127.0.0.1:${port}`, initialBackoffMs: 10_000 });
    source.start(() => {});
    for (const end = Date.now() + 10_000; !source.status().startsWith('reconnecting') && Date.now() < end;) await sleep(10);
    expect(source.status()).toBe('reconnecting in 10.0s: HTTP 401');
  });
});

describe('SseSource when the admin process goes away mid-stream', () => {
  it('notices the dropped connection and reconnects', async () => {
    let connections = 0;
    const server = http.createServer((_req, res) => {
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: flow\ndata: ${JSON.stringify(record({ id: `c${connections}` }))}\n\n`);
      if (connections === 1) setTimeout(() => res.socket?.destroy(), 20); // no clean end: the socket just dies
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const got: string[] = [];
    const source = new SseSource({ url: `http://127.0.0.1:${port}`, initialBackoffMs: 20 });
    source.start((e) => { if (e.type === 'flow.end') got.push(e.flow.id); });
    for (const end = Date.now() + 10_000; got.length < 2 && Date.now() < end;) await sleep(20);
    source.close();
    server.closeAllConnections();
    server.close();
    expect(got).toEqual(['c1', 'c2']);
  });
});
