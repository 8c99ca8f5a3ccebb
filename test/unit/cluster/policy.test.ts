import { describe, expect, it } from 'vitest';
import { parseWorkersFlag, workerCount } from '../../../src/cluster/config.js';
import { asWorkerMessage } from '../../../src/cluster/ipc.js';
import { decideRestart } from '../../../src/cluster/restart-policy.js';

const o = { restartBaseMs: 100, restartMaxMs: 1000, maxRestarts: 3, restartWindowMs: 60_000 };

describe('worker restart policy', () => {
  it('doubles the delay per recent restart, capped', () => {
    expect(decideRestart([], 0, o)).toEqual({ restart: true, delayMs: 100 });
    expect(decideRestart([0], 10, o)).toEqual({ restart: true, delayMs: 200 });
    expect(decideRestart([0, 5], 10, o)).toEqual({ restart: true, delayMs: 400 });
    expect(decideRestart([0, 5], 10, { ...o, restartMaxMs: 300 })).toEqual({ restart: true, delayMs: 300 });
  });

  it('gives up past maxRestarts within the window, and forgets restarts older than it', () => {
    const d = decideRestart([0, 1, 2], 10, o);
    expect(d.restart).toBe(false);
    expect(d.restart === false && d.reason).toMatch(/3 restarts within 60000 ms/);
    expect(decideRestart([0, 1, 2], 70_000, o)).toEqual({ restart: true, delayMs: 100 });
  });
});

describe('--workers', () => {
  it.each([['1', 1], ['2', 2], ['auto', 'auto'], ['64', 64]])('%s → %s', (text, value) => {
    expect(parseWorkersFlag(text)).toBe(value);
  });
  it.each(['0x2', '-1', 'two', '', '100'])('refuses %j', (text) => {
    expect(() => parseWorkersFlag(text)).toThrow(/--workers: expected a number 1-64 or auto/);
  });
  it('auto is the cores, within 1..64', () => {
    expect(workerCount('auto', 2)).toBe(2);
    expect(workerCount('auto', 0)).toBe(1);
    expect(workerCount('auto', 200)).toBe(64);
    expect(workerCount(3, 2)).toBe(3);
  });
});

describe('worker messages', () => {
  it('narrows ours and ignores anything else', () => {
    expect(asWorkerMessage({ portico: 'ready', urls: ['http://x'] })).toEqual({ portico: 'ready', urls: ['http://x'] });
    expect(asWorkerMessage({ portico: 'event', event: { type: 'config.reload', ok: true } })?.portico).toBe('event');
    for (const m of [null, 'ready', { portico: 'ready' }, { portico: 'ready', urls: [1] }, { portico: 'event', event: {} }, { cmd: 'NODE_CLUSTER' }]) {
      expect(asWorkerMessage(m)).toBeUndefined();
    }
  });
});
