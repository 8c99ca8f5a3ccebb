import type { Worker } from 'node:cluster';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Gather } from '../../../src/cluster/gather.js';
import { asWorkerMessage } from '../../../src/cluster/ipc.js';
import { mergeWorkerStats } from '../../../src/cluster/merge-stats.js';

const fakeWorker = (id: number, sent: unknown[]): Worker => ({ id, send: (m: unknown) => { sent.push(m); return true; } }) as unknown as Worker;

afterEach(() => { vi.useRealTimers(); });

const l7 = (states: Array<[string, string, number, number]>, panic = false): Record<string, unknown> => ({
  name: 'app', panic,
  backends: states.map(([id, state, active, ewmaMs]) => ({ id, state, reason: `${id} ${state}`, active, ejections: 0, weight: 1, ewmaMs })),
});

describe('merging the workers\' gauges and pools (the primary\'s /metrics and /upstreams)', () => {
  it('sums gauges and rejections; leaves out what no worker reported', () => {
    const m = mergeWorkerStats([
      { inFlight: 2, rejections: { 'too-many-connections': 1 } },
      { inFlight: 3, rejections: { 'too-many-connections': 2, 'headers-timeout': 1 } },
    ]);
    expect(m.inFlight).toBe(5);
    expect(m.openTunnels).toBeUndefined();
    expect([...(m.rejections ?? [])]).toEqual([['too-many-connections', 3], ['headers-timeout', 1]]);
    expect(mergeWorkerStats([])).toEqual({ inFlight: undefined, openTunnels: undefined, rejections: undefined, upstreams: [] });
  });

  it('lists a pool and each backend once: counters summed, the least healthy state with the split, ewma averaged over measuring workers', () => {
    const m = mergeWorkerStats([
      { upstreams: [l7([['b1', 'up', 2, 10], ['b2', 'up', 1, 0]])] },
      { upstreams: [l7([['b1', 'ejected', 1, 20], ['b2', 'up', 4, 6]], true)] },
    ]);
    expect(m.upstreams).toEqual([{
      name: 'app', panic: true, workers: 2,
      backends: [
        { id: 'b1', state: 'ejected', reason: 'b1 ejected', states: { up: 1, ejected: 1 }, active: 3, ejections: 0, weight: 1, ewmaMs: 15 },
        { id: 'b2', state: 'up', reason: 'b2 up', states: { up: 2 }, active: 5, ejections: 0, weight: 1, ewmaMs: 6 },
      ],
    }]);
  });

  it('merges L4 pools (connections, connect failures, stick entries summed) and keeps pools only one worker has', () => {
    const l4 = (active: number, connections: number, stick: number): Record<string, unknown> => ({
      name: 'tcp', kind: 'l4', balance: 'round-robin', panic: false, stickEntries: stick,
      backends: [{ id: 't1', state: 'down', reason: 'refused', active, weight: 1, connections, connectFailures: 1 }],
    });
    const m = mergeWorkerStats([
      { inFlight: 1, upstreams: [l4(1, 10, 2)] },
      { inFlight: 0, upstreams: [l4(0, 5, 3), { name: 'new', backends: [] }, 'junk'] },
    ]);
    expect(m.inFlight).toBe(1);
    expect(m.upstreams).toEqual([
      { name: 'tcp', kind: 'l4', balance: 'round-robin', panic: false, stickEntries: 5, workers: 2,
        backends: [{ id: 't1', state: 'down', reason: 'refused', states: { down: 2 }, active: 1, weight: 1, connections: 15, connectFailures: 2 }] },
      { name: 'new', workers: 1, backends: [] },
    ]);
  });

  it('reads a worker\'s stats message, dropping malformed fields', () => {
    expect(asWorkerMessage({ portico: 'stats', id: 4, stats: { inFlight: 'x', openTunnels: 2, rejections: { a: 1, b: 'no' }, upstreams: [] } }))
      .toEqual({ portico: 'stats', id: 4, stats: { openTunnels: 2, rejections: { a: 1 }, upstreams: [] } });
    expect(asWorkerMessage({ portico: 'stats', id: 4 })).toBeUndefined();
  });
});

describe('gathering one answer per worker', () => {
  it('resolves when every worker answered, ignoring duplicates and unknown ids', async () => {
    const sent: unknown[] = [];
    const [a, b] = [fakeWorker(1, sent), fakeWorker(2, sent)];
    const g = new Gather<number>(1000);
    const result = g.run([a, b], (id) => ({ ask: id }));
    expect(sent).toEqual([{ ask: 1 }, { ask: 1 }]);
    g.answer(a, 1, 10);
    g.answer(a, 1, 99);
    g.answer(b, 7, 99);
    g.answer(b, 1, 20);
    await expect(result).resolves.toEqual({ answers: [10, 20], missing: [] });
  });

  it('resolves at the timeout with the answers that came and the silent workers', async () => {
    vi.useFakeTimers();
    const [a, b] = [fakeWorker(1, []), fakeWorker(2, [])];
    const g = new Gather<number>(300);
    const result = g.run([a, b], () => ({}));
    g.answer(b, 1, 5);
    vi.advanceTimersByTime(300);
    await expect(result).resolves.toEqual({ answers: [5], missing: [1] });
    g.answer(a, 1, 6); // too late: ignored
    await expect(g.run([], () => ({}))).resolves.toEqual({ answers: [], missing: [] });
  });
});
