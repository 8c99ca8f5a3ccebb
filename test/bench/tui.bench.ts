/**
 * TUI load check (issue 5): offer 5 000 flows/s to the in-process source for a few seconds, with the real App
 * rendering into a fake 120×40 TTY at its 100 ms frame rate, and a keystroke every 200 ms. Prints CPU, frames,
 * event-loop delay (how long a key waits) and heap, against the same load into the store with no UI:
 *   node --import tsx --expose-gc test/bench/tui.bench.ts [FLOWS_PER_SEC] [SECONDS]
 * Figures are printed, never asserted.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/core/clock.js';
import { createEventBus } from '../../src/core/events.js';
import type { FlowRecord } from '../../src/core/flow.js';
import { TuiController } from '../../src/tui/controller.js';
import { busSource } from '../../src/tui/source.js';
import { FlowStore } from '../../src/tui/store.js';

// As `portico forward --tui` runs it: React's production build, loaded after NODE_ENV is set.
process.env.NODE_ENV ??= 'production';
const { render } = await import('ink');
const { createElement } = await import('react');
const { App } = await import('../../src/tui/components/App.js');

const RATE = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 5);
const TICK_MS = 10;

class FakeStdout extends Writable {
  columns = 120;
  rows = 40;
  isTTY = true;
  bytes = 0;
  writes = 0;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.bytes += chunk.length;
    this.writes++;
    cb();
  }
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void { this.data = data; this.emit('readable'); }
  read(): string | null { const d = this.data; this.data = null; return d; }
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

const template: FlowRecord = {
  id: '', mode: 'forward', time: '2026-01-01T00:00:00.000Z', client: '127.0.0.1:50000', method: 'GET', url: '',
  version: '1.1', status: 200, bytesIn: 0, bytesOut: 5120, timings: { firstByte: 2, total: 4 }, notes: { cache: 'miss' },
};

interface Row { name: string; delivered: number; cpu: string; frames: number; p99: string; heap: string; size: number }

async function run(name: string, withUi: boolean): Promise<Row> {
  const bus = createEventBus();
  const store = new FlowStore({ clock: systemClock });
  const source = busSource(bus);
  let delivered = 0;
  source.start((e) => { delivered++; store.add(e); });
  const stdout = new FakeStdout();
  const stdin = new FakeStdin();
  const controller = new TuiController(store, source, {
    writeCurl: async () => ({ command: '', path: '' }), saveHar: async () => '', replay: async () => ({ ok: true, text: '' }), quit: () => {},
  });
  const ink = withUi
    ? render(createElement(App, { store, source, controller }), {
      stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false,
    })
    : undefined;
  await sleep(200);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  const perTick = (RATE * TICK_MS) / 1000;
  const producer = setInterval(() => {
    for (let i = 0; i < perTick; i++, n++) {
      bus.emit({ type: 'flow.end', flow: { ...template, id: `f${n}`, url: `http://host${n % 50}.test/path/${n}` } });
    }
  }, TICK_MS);
  const keys = setInterval(() => stdin.write(n % 2 ? 'k' : 'j'), 200);
  await sleep(SECONDS * 1000);
  clearInterval(producer);
  clearInterval(keys);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  globalThis.gc?.();
  const heap = process.memoryUsage().heapUsed;
  ink?.unmount();
  source.close();
  return {
    name, delivered: Math.round(delivered / (wall / 1000)), cpu: `${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0)}%`,
    frames: stdout.writes, p99: `${(h.percentile(99) / 1e6).toFixed(1)} ms`, heap: `${(heap / 1024 / 1024).toFixed(0)} MiB`, size: store.size,
  };
}

const rows = [await run('store only (no UI)', false), await run('store + App at 10 fps', true)];
console.log(`TUI bench: ${RATE} flows/s offered for ${SECONDS} s (fake 120×40 TTY, a key every 200 ms)`);
console.log('| run | delivered/s | CPU | terminal writes | event-loop p99 | heap after gc | flows kept |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.delivered} | ${r.cpu} | ${r.frames} | ${r.p99} | ${r.heap} | ${r.size} |`);
process.exit(0);
