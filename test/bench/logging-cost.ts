/**
 * In-process cost of the observers per finished flow (toRecord + bus delivery + format + asynchronous file write, and
 * ring + metrics), as process CPU time ÷ flows. A figure the shared machine barely disturbs, to put next to
 * Portico's CPU per proxied request.   node --import tsx test/bench/logging-cost.ts [--flows 200000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEventBus } from '../../src/core/events.js';
import { toRecord, type Flow } from '../../src/core/flow.js';
import { startAccessLog } from '../../src/observe/access-log/index.js';
import { Metrics } from '../../src/observe/metrics.js';
import { FlowRing } from '../../src/observe/ring.js';

const { values } = parseArgs({ options: { flows: { type: 'string', default: '200000' } } });
const N = Number(values.flows);

function flow(i: number): Flow {
  return {
    id: `k3j2h1-${i}`, mode: 'forward', signal: new AbortController().signal, client: { ip: '127.0.0.1', port: 40000 + (i % 20000) },
    startedAt: Date.now(), request: { method: 'GET', url: new URL(`http://127.0.0.1:4000/nostore-1k?i=${i}`), version: '1.1', headers: [['host', '127.0.0.1:4000']] },
    requestBody: null, response: { status: 200, headers: [['content-type', 'text/plain'], ['content-length', '1024']] },
    notes: { source: 'upstream', upstream: '127.0.0.1:4000', cache: 'uncacheable', policy: { action: 'allow', rule: 'default', explain: 'no rule matched; default action allow' } },
    timings: { start: 1000, firstByte: 1002.5, end: 1003.1 }, bytesIn: 0, bytesOut: 1024,
  };
}

async function measure(name: string, setup: (bus: ReturnType<typeof createEventBus>, dir: string) => Promise<() => Promise<void>>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-logcost-'));
  const bus = createEventBus();
  const done = await setup(bus, dir);
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < N; i++) {
    const f = flow(i); // built in every row (the proxy builds it anyway); the first row shows its cost
    if (!bus.idle) bus.emit({ type: 'flow.end', flow: toRecord(f) });
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // let delivery run, as between requests
  }
  await done();
  const cpu = process.cpuUsage(t0);
  console.log(`| ${name} | ${((cpu.user + cpu.system) / N).toFixed(2)} | ${((performance.now() - w0) / N * 1000).toFixed(2)} |`);
  await rm(dir, { recursive: true, force: true });
}

console.log(`\n### observer cost per flow (${N} flows, in-process)\n\n| observers | CPU µs/flow | wall µs/flow |\n|---|---:|---:|`);
await measure('nothing subscribed (fixture only)', async () => async () => {});
for (const format of ['json', 'squid', 'combined'] as const) {
  await measure(`${format} to a rotated file`, async (bus, dir) => {
    const log = await startAccessLog(bus, { format, accessLog: [join(dir, 'a.log')], rotate: { size: '50m', count: 2 } });
    return async () => { await new Promise((r) => setImmediate(r)); await log?.close(); };
  });
}
await measure('json file + ring + metrics', async (bus, dir) => {
  const log = await startAccessLog(bus, { format: 'json', accessLog: [join(dir, 'a.log')], rotate: { size: '50m', count: 2 } });
  const ring = new FlowRing(10_000);
  const metrics = new Metrics();
  const sub = bus.subscribe((e) => { if (e.type === 'flow.end') ring.push(e.flow); metrics.observe(e); });
  return async () => { await new Promise((r) => setImmediate(r)); sub.close(); await log?.close(); };
});
