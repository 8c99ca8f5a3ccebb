import { describe, expect, it } from 'vitest';
import { clusterSchema } from '../../../src/cluster/config.js';
import { MEMORY_REDUCER, NO_MEMORY_REDUCER } from '../../../src/cluster/heap.js';
import { SINGLE_THREADED_GC, workerExecArgv } from '../../../src/cluster/worker-args.js';

const DEFAULTS = { singleThreadedGc: true, memoryReducer: false };

describe('workerExecArgv: the Node options a worker starts with', () => {
  it('keeps the primary\'s own options, in order, and adds --single-threaded-gc and --no-memory-reducer once', () => {
    expect(workerExecArgv(['--max-old-space-size=512', '--enable-source-maps'], DEFAULTS))
      .toEqual(['--max-old-space-size=512', '--enable-source-maps', SINGLE_THREADED_GC, NO_MEMORY_REDUCER]);
    expect(workerExecArgv([NO_MEMORY_REDUCER, SINGLE_THREADED_GC], DEFAULTS)).toEqual([NO_MEMORY_REDUCER, SINGLE_THREADED_GC]);
  });

  it('says --memory-reducer when the config keeps the reducer (so the worker\'s main.ts leaves it alone), and never changes its input', () => {
    const own = ['--inspect=0'];
    expect(workerExecArgv(own, { singleThreadedGc: false, memoryReducer: true })).toEqual(['--inspect=0', MEMORY_REDUCER]);
    expect(workerExecArgv(own, { singleThreadedGc: false, memoryReducer: false })).toEqual(['--inspect=0', NO_MEMORY_REDUCER]);
    expect(workerExecArgv(own, { singleThreadedGc: true, memoryReducer: true })).toEqual(['--inspect=0', SINGLE_THREADED_GC, MEMORY_REDUCER]);
    expect(workerExecArgv(own, DEFAULTS)).not.toBe(own);
    expect(own).toEqual(['--inspect=0']);
  });

  it('the primary\'s own --memory-reducer wins over the default (the operator asked for it by name)', () => {
    expect(workerExecArgv([MEMORY_REDUCER], DEFAULTS)).toEqual([MEMORY_REDUCER, SINGLE_THREADED_GC]);
  });

  it('cluster.singleThreadedGc is on and cluster.memoryReducer off by default; both take a boolean and refuse anything else', () => {
    expect(clusterSchema.parse(undefined)).toMatchObject(DEFAULTS);
    expect(clusterSchema.parse({ workers: 2 })).toMatchObject(DEFAULTS);
    expect(clusterSchema.parse({ singleThreadedGc: false }).singleThreadedGc).toBe(false);
    expect(clusterSchema.parse({ memoryReducer: true }).memoryReducer).toBe(true);
    expect(clusterSchema.safeParse({ singleThreadedGc: 'yes' }).success).toBe(false);
    expect(clusterSchema.safeParse({ memoryReducer: 'no' }).success).toBe(false);
  });
});
