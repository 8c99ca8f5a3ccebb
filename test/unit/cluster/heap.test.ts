import { describe, expect, it } from 'vitest';
import { REDUCER_DELAY_FLAG, shouldHoldHeapLimits } from '../../../src/cluster/heap.js';

describe('shouldHoldHeapLimits: whether the process holds V8\'s heap limits at start', () => {
  it('holds them unless the command line already says what the memory reducer does', () => {
    expect(shouldHoldHeapLimits([])).toBe(true);
    expect(shouldHoldHeapLimits(['--max-old-space-size=512', '--single-threaded-gc', '--enable-source-maps'])).toBe(true);
    expect(shouldHoldHeapLimits(['--no-memory-reducer'])).toBe(false); // off already
    expect(shouldHoldHeapLimits(['--memory-reducer'])).toBe(false); // asked for (a worker with cluster.memoryReducer on)
    expect(shouldHoldHeapLimits([`${REDUCER_DELAY_FLAG}=1000`])).toBe(false);
    expect(shouldHoldHeapLimits([REDUCER_DELAY_FLAG, '1000'])).toBe(false);
  });
});
