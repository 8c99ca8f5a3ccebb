import { Command } from 'commander';
import pino from 'pino';
import { primaryKey } from '../cache/key.js';
import { hostScopes, urlScopes, type PurgeScope } from '../cache/store.js';
import { createRedisStore } from '../cache/stores/redis.js';
import { systemClock } from '../core/clock.js';
import { loadForwardConfig } from './forward.js';

export interface PurgeFlags { host?: string; all?: boolean; cache?: string; config?: string }
export interface PurgePlan { keys: string[]; scopes: PurgeScope[]; what: string }

/** Pure: what `portico cache purge URL|--host H|--all` removes, or a usage error. */
export function purgePlan(url: string | undefined, flags: PurgeFlags): PurgePlan | string {
  const given = [url !== undefined, flags.host !== undefined, flags.all === true].filter(Boolean).length;
  if (given !== 1) return 'give exactly one of URL, --host HOST or --all';
  if (flags.all) return { keys: [], scopes: [{ kind: 'all' }], what: 'every entry' };
  if (flags.host !== undefined) return { keys: [], scopes: hostScopes(flags.host), what: `every entry of ${flags.host}` };
  let parsed: URL;
  try {
    parsed = new URL(url as string);
  } catch {
    return `not an absolute URL: ${url}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `not an http(s) URL: ${url}`;
  const scopes = urlScopes(primaryKey(parsed));
  return { keys: [scopes.key], scopes: [scopes.variants], what: primaryKey(parsed) };
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
      + 'which does not exist yet (restarting the proxy empties it). Use --cache redis://… for a shared store.\n');
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
    let n = 0;
    for (const key of plan.keys) {
      if ((await store.get(key)) !== undefined) n++;
      await store.delete(key);
    }
    for (const scope of plan.scopes) n += await store.purge(scope);
    process.stdout.write(`purged ${plan.what}: ${n} stored key${n === 1 ? '' : 's'} removed\n`);
    return 0;
  } finally {
    await store.close();
  }
}
