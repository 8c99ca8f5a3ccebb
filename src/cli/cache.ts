import { Command } from 'commander';
import pino from 'pino';
import { purgePlan as planFor, runPurge, type PurgePlan } from '../cache/purge.js';
import { createRedisStore } from '../cache/stores/redis.js';
import { systemClock } from '../core/clock.js';
import { loadForwardConfig } from './forward.js';

export interface PurgeFlags { host?: string; all?: boolean; cache?: string; config?: string }

/** The CLI's view of cache/purge.ts purgePlan: URL argument plus --host / --all. */
export function purgePlan(url: string | undefined, flags: PurgeFlags): PurgePlan | string {
  return planFor({ url, host: flags.host, all: flags.all });
}

export function cacheCommand(): Command {
  const cache = new Command('cache').description('manage the HTTP cache');
  cache.command('purge [url]')
    .description('remove one URL (with its Vary variants), every entry of a host, or everything from the cache store')
    .option('--host <host>', 'purge every entry of this host (any scheme and port)')
    .option('--all', 'purge every entry')
    .option('--cache <store>', 'the store to purge (default: cache.store of the config), e.g. redis://127.0.0.1:6379/0')
    .option('-c, --config <file>', 'YAML config file (default: ./portico.yaml when present)')
    .action(async (url: string | undefined, flags: PurgeFlags) => {
      process.exitCode = await purge(url, flags);
    });
  return cache;
}

async function purge(url: string | undefined, flags: PurgeFlags): Promise<number> {
  const plan = purgePlan(url, flags);
  if (typeof plan === 'string') {
    process.stderr.write(`portico cache purge: ${plan}\n`);
    return 2;
  }
  const config = loadForwardConfig({ ...(flags.config ? { config: flags.config } : {}), ...(flags.cache ? { cache: flags.cache } : {}) }).cache;
  if (config.store === 'off') {
    process.stdout.write('the cache is off: nothing to purge\n');
    return 0;
  }
  if (config.store === 'memory') {
    process.stderr.write('the memory store lives inside the running proxy: it can only be purged through the admin endpoint, '
      + 'POST /cache/purge on `portico forward --admin HOST:PORT` (restarting the proxy empties it). Use --cache redis://… for a shared store.\n');
    return 2;
  }
  const store = createRedisStore({
    url: config.store, namespace: config.redis.namespace, opTimeoutMs: Math.max(config.opTimeoutMs, 1000),
    purgeTimeoutMs: config.redis.purgeTimeoutMs, chunkBytes: config.redis.chunkBytes, bodyMsPerMiB: config.redis.bodyMsPerMiB, failureThreshold: 1_000_000,
    probeIntervalMs: config.redis.probeIntervalMs, clock: systemClock, log: pino({ level: 'silent' }),
  });
  try {
    if (!(await store.ready(2000))) {
      process.stderr.write(`portico cache purge: cannot reach ${config.store}\n`);
      return 1;
    }
    const n = await runPurge(store, plan);
    process.stdout.write(`purged ${plan.what}: ${n} stored key${n === 1 ? '' : 's'} removed\n`);
    return 0;
  } finally {
    await store.close();
  }
}
