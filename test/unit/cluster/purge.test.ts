import type { Worker } from 'node:cluster';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PurgeFanOut } from '../../../src/cluster/purge.js';

const plan = { keys: ['k'], scopes: [], what: 'all' };
const fakeWorker = (id: number, sent: unknown[]): Worker => ({ id, send: (m: unknown) => { sent.push(m); return true; } }) as unknown as Worker;

afterEach(() => { vi.useRealTimers(); });

describe('purge fan-out to workers', () => {
  it('sends the plan to every worker and adds their counts', async () => {
    const sent: unknown[] = [];
    const [a, b] = [fakeWorker(1, sent), fakeWorker(2, sent)];
    const fan = new PurgeFanOut(1000);
    const result = fan.run(plan, [a, b]);
    expect(sent).toEqual([{ portico: 'purge', id: 1, plan }, { portico: 'purge', id: 1, plan }]);
    fan.answer(a, 1, 3, undefined);
    fan.answer(a, 1, 3, undefined); // a duplicate answer is ignored
    fan.answer(b, 1, 2, undefined);
    await expect(result).resolves.toBe(5);
  });

  it('fails naming the worker that did not answer in time, and with a worker\'s error', async () => {
    vi.useFakeTimers();
    const [a, b] = [fakeWorker(1, []), fakeWorker(2, [])];
    const fan = new PurgeFanOut(500);
    const late = fan.run(plan, [a, b]);
    fan.answer(a, 1, 1, undefined);
    vi.advanceTimersByTime(500);
    await expect(late).rejects.toThrow(/worker\(s\) 2 did not answer within 500 ms/);
    const failed = fan.run(plan, [a]);
    fan.answer(a, 2, 0, 'store unreachable');
    await expect(failed).rejects.toThrow(/purge: store unreachable/);
    await expect(fan.run(plan, [])).resolves.toBe(0);
  });
});
