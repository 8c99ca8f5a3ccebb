import cluster from 'node:cluster';
import { ConfigError } from '../config/load.js';
import type { AdminConfig, LogConfig } from '../config/schema.js';
import { createLogger } from '../observe/logger.js';
import { workerCount, type ClusterConfig } from './config.js';
import { runPrimary } from './primary.js';
import { workerExecArgv } from './worker-args.js';

export interface ClusteredModeConfig {
  readonly cluster: ClusterConfig;
  readonly log: LogConfig;
  readonly admin: AdminConfig;
  readonly shutdown: { graceMs: number };
  /** Forward mode's cache: the primary fans the admin purge call out to the workers. */
  readonly cache?: { store: string };
}

/**
 * Called by a mode's command once its configuration is loaded: with `cluster.workers` above 1 in the first process,
 * runs the cluster primary (which forks workers running this same command) and returns true — the caller then does
 * nothing else. In a worker, or with one worker, returns false and the caller starts the mode as usual.
 */
export async function runClusterPrimaryIfAsked(mode: string, config: ClusteredModeConfig, o: { version: string; tui?: boolean }): Promise<boolean> {
  const workers = workerCount(config.cluster.workers);
  if (workers <= 1 || cluster.isWorker) return false;
  if (o.tui) throw new ConfigError('--tui runs in one process; with --workers use --admin HOST:PORT and `portico tui --connect URL`');
  const log = createLogger(config.log.level);
  await runPrimary({
    mode, workers, restart: config.cluster, config, version: o.version, log,
    workerExecArgv: workerExecArgv(process.execArgv, config.cluster), ...(config.cache ? { cache: config.cache } : {}),
  });
  return true;
}
