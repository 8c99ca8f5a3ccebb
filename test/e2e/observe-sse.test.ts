import { connect } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import { createEventBus } from '../../src/core/events.js';
import { startObservers } from '../../src/observe/observers.js';
import { record } from '../unit/observe/records.js';

describe('/events with a stalled reader (real socket)', () => {
  it('drops beyond the bounded queue, tells the reader how many, and keeps serving', async () => {
    const bus = createEventBus();
    const config = validateConfig(forwardConfigSchema, { log: { accessLog: [] }, admin: { listen: '127.0.0.1:0', sseQueueEvents: 50 } }, 'test');
    const obs = await startObservers(bus, config, { mode: 'forward', version: 'test' });
    const url = new URL(obs.admin?.url ?? '');
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write('GET /events HTTP/1.1\r\nHost: admin\r\n\r\n');
    await once(socket, 'data'); // headers and the opening comment: subscribed
    socket.pause(); // the reader stalls: the kernel buffers fill, then Portico's queue, then it drops
    const padding = 'x'.repeat(2000);
    for (let batch = 0; batch < 20; batch++) {
      for (let i = 0; i < 500; i++) bus.emit({ type: 'flow.end', flow: record({ id: `f${batch}-${i}`, url: `http://example.test/${padding}` }) });
      await new Promise((r) => setImmediate(r));
    }
    const dropped = obs.admin?.dropped() ?? 0;
    expect(dropped).toBeGreaterThan(5000); // 10 000 × 2 KB offered; the socket and a 50-frame queue hold far less
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.resume();
    const deadline = Date.now() + 5000;
    while (!/event: dropped\ndata: \{"dropped":\d+\}/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const notices = [...text.matchAll(/event: dropped\ndata: \{"dropped":(\d+)\}/g)].map((m) => Number(m[1]));
    expect(notices.reduce((a, b) => a + b, 0)).toBe(dropped);
    bus.emit({ type: 'flow.end', flow: record({ id: 'after' }) });
    while (!text.includes('"id":"after"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(text).toContain('"id":"after"');
    const metrics = await (await fetch(`${obs.admin?.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^portico_events_dropped_total ${dropped}$`, 'm'));
    socket.destroy();
    await obs.close();
  });
});
