import { describe, expect, it } from 'vitest';
import { setImmediate } from 'node:timers';
import { TurnQueue } from '../../../src/tls/turns.js';

describe('TurnQueue', () => {
  it('runs jobs in order and returns their results', async () => {
    const q = new TurnQueue();
    const order: number[] = [];
    const results = await Promise.all([1, 2, 3].map((n) => q.run(() => (order.push(n), n * 10))));
    expect(results).toEqual([10, 20, 30]);
    expect(order).toEqual([1, 2, 3]);
  });

  it('rejects the job that throws and carries on with the next', async () => {
    const q = new TurnQueue();
    const failed = q.run(() => {
      throw new Error('boom');
    });
    const next = q.run(() => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });

  it('lets other callbacks run between two jobs (one job per loop turn)', async () => {
    const q = new TurnQueue();
    const events: string[] = [];
    const a = q.run(() => events.push('job 1'));
    const b = q.run(() => events.push('job 2'));
    // Queued after both jobs, yet it runs before job 2: the queue yields between jobs.
    setImmediate(() => events.push('other'));
    await Promise.all([a, b]);
    expect(events).toEqual(['job 1', 'other', 'job 2']);
  });
});
