import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../config/load.js';

export const MAX_WORKERS = 64;

const restartDefaults = { restartBaseMs: 100, restartMaxMs: 5_000, maxRestarts: 10, restartWindowMs: 60_000, ipcTimeoutMs: 10_000 };

/**
 * `cluster:` in forward and reverse configurations (`--workers N|auto`): worker processes sharing the listen socket
 * (node:cluster). A crashed worker is restarted after restartBaseMs × 2^(recent restarts), at most restartMaxMs; past
 * maxRestarts within restartWindowMs it is not restarted any more (a crash loop is a bug, not a load spike).
 */
export const clusterSchema = z.object({
  /** 1 = no cluster (the default); `auto` = one per core. */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(MAX_WORKERS)]).default(1),
  restartBaseMs: z.number().int().positive().default(restartDefaults.restartBaseMs),
  restartMaxMs: z.number().int().positive().default(restartDefaults.restartMaxMs),
  maxRestarts: z.number().int().nonnegative().default(restartDefaults.maxRestarts),
  restartWindowMs: z.number().int().positive().default(restartDefaults.restartWindowMs),
  /** How long the primary waits for every worker's answer to a request it fans out (the admin purge call). */
  ipcTimeoutMs: z.number().int().positive().default(restartDefaults.ipcTimeoutMs),
  /**
   * Each worker's garbage collector runs on its own event-loop thread (V8's --single-threaded-gc), without helper
   * threads: N workers on N cores keep every core busy already, and a helper thread only preempts another worker.
   */
  singleThreadedGc: z.boolean().default(true),
  /**
   * V8's memory reducer in each worker: off by default (--no-memory-reducer), since after an idle spell it leaves the
   * heap limits so small that large responses cost a full GC every 40-50 ms (worker-args.ts). One process holds it off
   * from its first line (main.ts, heap.ts), before any config is read: `node --memory-reducer` keeps it there.
   */
  memoryReducer: z.boolean().default(false),
}).strict().default({ workers: 1, ...restartDefaults, singleThreadedGc: true, memoryReducer: false });

export type ClusterConfig = z.output<typeof clusterSchema>;

/** `--workers` text → the config value: a count or `auto`; anything else is refused with the accepted forms. */
export function parseWorkersFlag(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  if (/^\d{1,2}$/.test(text)) return Number(text);
  throw new ConfigError(`--workers: expected a number 1-${MAX_WORKERS} or auto, got "${text}"`);
}

/** The number of worker processes: `auto` is the cores this process may use (at least 1, at most MAX_WORKERS). */
export function workerCount(setting: number | 'auto', cores: number = availableParallelism()): number {
  return setting === 'auto' ? Math.min(MAX_WORKERS, Math.max(1, cores)) : setting;
}
