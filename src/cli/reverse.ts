import { createRequire } from 'node:module';
import { Command } from 'commander';
import { parseWorkersFlag } from '../cluster/config.js';
import { runClusterPrimaryIfAsked } from '../cluster/run.js';
import { isClusterWorker, reportReady, workerObservers } from '../cluster/worker.js';
import { mergeConfig, readConfigFile, validateConfig, type PlainObject } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { startObservers } from '../observe/observers.js';
import { reverseConfigSchema, type ReverseConfig } from '../reverse/config.js';
import { watchConfigFile } from '../reverse/config-watch.js';
import { startReverse } from '../reverse/server.js';
import { connectionFlags } from './forward-options.js';
import { runUntilSignal } from './signals.js';
import { processLogger, runForwardTui, TUI_LOG_FILE } from './tui.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface ReverseFlags {
  config?: string;
  listen?: string;
  backend?: string[];
  balance?: string;
  healthPath?: string;
  exposeBackend?: boolean;
  trustedProxy?: string;
  logLevel?: string;
  shutdownGrace?: string;
  workers?: string;
  maxConnections?: string;
  maxConnectionsPerClient?: string;
  tui?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Flags → the config shape: --backend/--balance/--health-path make (or replace) the pool `default`. */
export function reverseFlagsToConfig(f: ReverseFlags): PlainObject {
  const out: PlainObject = {};
  if (f.listen !== undefined) out.listen = f.listen;
  if (f.backend !== undefined && f.backend.length > 0) {
    out.pools = { default: {
      backends: f.backend, ...(f.balance === undefined ? {} : { balance: f.balance }),
      ...(f.healthPath === undefined ? {} : { health: { path: f.healthPath } }),
    } };
  }
  if (f.exposeBackend) out.exposeBackend = true;
  if (f.trustedProxy !== undefined) out.trustedProxies = f.trustedProxy.split(',').map((s) => s.trim()).filter(Boolean);
  if (f.logLevel !== undefined) out.log = { level: f.logLevel };
  if (f.shutdownGrace !== undefined) out.shutdown = { graceMs: Number(f.shutdownGrace) };
  if (f.workers !== undefined) out.cluster = { workers: parseWorkersFlag(f.workers) };
  const server = connectionFlags(f);
  if (server) out.server = server;
  return out;
}

export function loadReverseConfig(flags: ReverseFlags): ReverseConfig {
  const fromFile = flags.config === undefined ? {} : readConfigFile(flags.config);
  const merged = mergeConfig(fromFile, reverseFlagsToConfig(flags));
  return validateConfig(reverseConfigSchema, merged, flags.config === undefined ? 'flags' : `${flags.config} + flags`);
}

export function withReverseOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'lb.yaml: pools, routes, weights, health, canary')
    .option('--backend <host:port>', 'a backend of the default pool (repeat the flag)', collect)
    .option('--balance <policy>', 'round-robin|weighted|least-conn|p2c|ewma|random|hash-ip|hash-header:NAME|hash-cookie:NAME|maglev-ip')
    .option('--health-path <path>', 'active HTTP checks of the default pool on this path');
}

export function reverseCommand(): Command {
  return withReverseOptions(new Command('reverse').description('run the reverse proxy / L7 load balancer'))
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8081)')
    .option('--expose-backend', 'add X-Portico-Backend to responses')
    .option('--trusted-proxy <cidrs>', 'peers whose X-Forwarded-For/Forwarded are kept and extended')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--shutdown-grace <ms>', 'time in-flight requests get on SIGTERM (default 10000)')
    .option('--max-connections <n>', 'open client connections in total; beyond: 503 and close (default 10000)')
    .option('--max-connections-per-client <n>', 'open connections per client address; beyond: 503 and close (default 512)')
    .option('--workers <n|auto>', 'worker processes sharing the listen socket (default 1; auto = one per core)')
    .option('--tui', `show live flows and backends in a terminal UI; logs then go to ./${TUI_LOG_FILE}`)
    .action(async (flags: ReverseFlags) => {
      const config = loadReverseConfig(flags);
      if (flags.tui && config.cluster.workers !== 1) throw new Error('--tui runs in one process: use it without --workers (or attach with portico tui --connect)');
      if (await runClusterPrimaryIfAsked('reverse', config, { version: VERSION })) return;
      const { log, tuiFd } = processLogger(config.log.level, flags.tui === true); // the TUI owns fd 1 when on
      const proxy = await startReverse(config, { log });
      const live = {
        inFlight: () => proxy.stats().inFlight, rejections: () => proxy.rejections(),
        upstreams: () => [...proxy.pools().values()].map((p) => p.snapshot(systemClock.monotonic())),
      };
      const observers = isClusterWorker() ? workerObservers(proxy.bus, config, live) : await startObservers(proxy.bus, config, {
        mode: 'reverse', version: VERSION, log, ...live, ...(tuiFd === undefined ? {} : { stdoutFd: tuiFd }),
      });
      proxy.bus.subscribe((e) => {
        if (e.type === 'backend.health') log.warn({ pool: e.pool, backend: e.backend, state: e.state, reason: e.reason }, 'backend health');
      }, { types: ['backend.health'] }); // so the bus builds no flow record per request for this subscriber
      const reload = async (why: string): Promise<void> => {
        try {
          await proxy.reload(loadReverseConfig(flags));
          proxy.bus.emit({ type: 'config.reload', ok: true });
          log.info({ why }, 'configuration reloaded');
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          proxy.bus.emit({ type: 'config.reload', ok: false, error });
          log.error({ why, error }, 'configuration reload failed; the previous one stays in force');
        }
      };
      // SIGHUP reloads a daemon; under --tui it means the terminal went away (runForwardTui stops then).
      if (!flags.tui) process.on('SIGHUP', () => void reload('SIGHUP'));
      const unwatch = flags.config === undefined ? () => undefined : watchConfigFile(flags.config, 250, () => void reload('file changed'), log);
      const stop = async (): Promise<void> => {
        unwatch();
        await proxy.close();
        await observers.close();
      };
      if (flags.tui) {
        return runForwardTui({ mode: 'reverse', bus: proxy.bus, proxyUrl: proxy.url, version: VERSION, log, stop,
          gauges: () => ({ inFlight: proxy.stats().inFlight, tunnels: 0 }) });
      }
      await runUntilSignal(log, stop, () => {
        if (isClusterWorker()) reportReady(proxy.url);
        else for (const l of proxy.listeners) process.stdout.write(`portico reverse listening on ${l.url}\n`);
        if (observers.admin) process.stdout.write(`portico admin on ${observers.admin.url}\n`);
      });
    });
}
