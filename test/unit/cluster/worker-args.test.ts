import { describe, expect, it } from 'vitest';
import { clusterSchema } from '../../../src/cluster/config.js';
import { SINGLE_THREADED_GC, workerExecArgv } from '../../../src/cluster/worker-args.js';

describe('workerExecArgv: the Node options a worker starts with', () => {
  it('keeps the primary\'s own options, in order, and adds --single-threaded-gc once', () => {
    expect(workerExecArgv(['--max-old-space-size=512', '--enable-source-maps'], true))
      .toEqual(['--max-old-space-size=512', '--enable-source-maps', SINGLE_THREADED_GC]);
    expect(workerExecArgv([SINGLE_THREADED_GC], true)).toEqual([SINGLE_THREADED_GC]);
  });

  it('adds nothing when cluster.singleThreadedGc is off, and never changes its input', () => {
    const own = ['--inspect=0'];
    expect(workerExecArgv(own, false)).toEqual(['--inspect=0']);
    expect(workerExecArgv(own, true)).not.toBe(own);
    expect(own).toEqual(['--inspect=0']);
  });

  it('cluster.singleThreadedGc is on by default, takes a boolean, and refuses anything else', () => {
    expect(clusterSchema.parse(undefined).singleThreadedGc).toBe(true);
    expect(clusterSchema.parse({ workers: 2 }).singleThreadedGc).toBe(true);
    expect(clusterSchema.parse({ singleThreadedGc: false }).singleThreadedGc).toBe(false);
    expect(clusterSchema.safeParse({ singleThreadedGc: 'yes' }).success).toBe(false);
  });
});
