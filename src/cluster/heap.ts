import v8 from 'node:v8';

/** V8's options that turn its memory reducer (the GCs that shrink the heap of a process that looks idle) on and off. */
export const MEMORY_REDUCER = '--memory-reducer';
export const NO_MEMORY_REDUCER = '--no-memory-reducer';
/** V8's delay before its memory reducer starts, in ms, read when the reducer arms its timer. */
export const REDUCER_DELAY_FLAG = '--gc-memory-reducer-start-delay-ms';
/** The longest delay V8 takes (an int): about 24 days. */
const NEVER_MS = 2 ** 31 - 1;

/**
 * Pure: whether this process should hold its heap limits: not when its command line already says what the memory
 * reducer does (--no-memory-reducer: off already; --memory-reducer or an explicit start delay: the operator's choice,
 * which is how a worker with cluster.memoryReducer on is told).
 */
export function shouldHoldHeapLimits(execArgv: readonly string[]): boolean {
  return !execArgv.some((a) => a === MEMORY_REDUCER || a === NO_MEMORY_REDUCER || a.startsWith(`${REDUCER_DELAY_FLAG}=`)
    || a === REDUCER_DELAY_FLAG);
}

/**
 * Keeps V8's memory reducer from shrinking this process's heap limits: the run-time counterpart of
 * `--no-memory-reducer`, which V8 takes only on the command line. It pushes the reducer's first start out of reach, so
 * it must run before the process's first full GC arms the reducer (main.ts calls it before loading a command; called
 * after that GC, the reducer still shrinks the heap once, 8 s later, and the harm is done).
 *
 * Why: after 8 s without load the reducer shrinks the heap limits, and a proxy whose allocations are mostly response
 * bodies outside the JS heap never grows them back: a full mark-compact every 40-50 ms at 100 KiB and 0.6× the rate
 * (README, Workers). True when it held them.
 */
export function holdHeapLimits(execArgv: readonly string[] = process.execArgv): boolean {
  if (!shouldHoldHeapLimits(execArgv)) return false;
  v8.setFlagsFromString(`${REDUCER_DELAY_FLAG}=${NEVER_MS}`);
  return true;
}
