import { MEMORY_REDUCER, NO_MEMORY_REDUCER } from './heap.js';

/** V8's option that runs every garbage-collection phase on the thread that triggered it, with no helper threads. */
export const SINGLE_THREADED_GC = '--single-threaded-gc';

export interface WorkerGcOptions {
  /** Add --single-threaded-gc (cluster.singleThreadedGc). */
  readonly singleThreadedGc: boolean;
  /** Leave V8's memory reducer on (cluster.memoryReducer); off by default: --no-memory-reducer is added. */
  readonly memoryReducer: boolean;
}

/**
 * Pure: the Node options a worker starts with: the primary's own (`process.execArgv`: --inspect, --max-old-space-size,
 * …, as node:cluster passes them by default), plus, unless the primary's own say otherwise:
 *
 * - --single-threaded-gc. Why: with N workers on N cores every core runs an event loop; V8's parallel scavenge and
 *   concurrent marking threads then only preempt another worker's loop. Measured at 1 KiB through `reverse --workers 2`
 *   on 2 cores, alternating 5 s runs: 16.2k vs 15.4k req/s and 66 vs 71 µs CPU per request (median of 6).
 * - --no-memory-reducer. Why: a proxy idle for 8 s after it starts (or after a quiet spell) has its heap limits shrunk
 *   by the reducer, and a load that allocates mostly outside the JS heap (response bodies: node's parser copies each
 *   chunk into a Buffer of its own) then never grows them back: 20-25 full mark-compacts a second, 100 KiB responses
 *   at 0.6× the rate of a process that did not idle. See README, Workers.
 */
export function workerExecArgv(execArgv: readonly string[], gc: WorkerGcOptions): string[] {
  const args = [...execArgv];
  if (gc.singleThreadedGc && !args.includes(SINGLE_THREADED_GC)) args.push(SINGLE_THREADED_GC);
  // Either way the worker's command line says it, so its main.ts leaves the reducer alone (heap.ts).
  if (!args.some((a) => a === NO_MEMORY_REDUCER || a === MEMORY_REDUCER)) args.push(gc.memoryReducer ? MEMORY_REDUCER : NO_MEMORY_REDUCER);
  return args;
}
