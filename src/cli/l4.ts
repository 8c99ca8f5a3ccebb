import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { parseWorkersFlag } from '../cluster/config.js';
import { runClusterPrimaryIfAsked } from '../cluster/run.js';
import { isClusterWorker, reportReady, workerObservers } from '../cluster/worker.js';
import { ConfigError, mergeConfig, readConfigFile, validateConfig, type PlainObject } from '../config/load.js';
import { BALANCE_HELP } from '../balance/spec.js';
import { l4ConfigSchema, type L4Config } from '../l4/config.js';
import { startL4 } from '../l4/server.js';
import { startObservers } from '../observe/observers.js';
import { runUntilSignal } from './signals.js';
import { processLogger, runForwardTui, TUI_LOG_FILE } from './tui.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface L4Flags {
  config?: string;
  tui?: boolean;
  listen?: string;
  backend?: string[];
  balance?: string;
  udp?: boolean;
  proxyProtocol?: string;
  healthInterval?: string;
  stickTtl?: string;
  maxConns?: string;
  maxConnsPerBackend?: string;
  connectTimeout?: string;
  idleTimeout?: string;
  coalesce?: string;
  admin?: string;
  adminToken?: string;
  logLevel?: string;
  logFormat?: string;
  accessLog?: string;
  shutdownGrace?: string;
  workers?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

function definedOnly(o: PlainObject): PlainObject {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Flags → the l4.yaml shape: --listen + --backend make (or replace) one listener on the pool `default`. */
export function l4FlagsToConfig(f: L4Flags): PlainObject {
  const out: PlainObject = {};
  if (f.backend !== undefined && f.backend.length > 0) {
    out.pools = { default: definedOnly({
      backends: f.backend, balance: f.balance, proxyProtocol: f.proxyProtocol,
      health: f.healthInterval === undefined ? undefined : { intervalMs: num(f.healthInterval) },
      stick: f.stickTtl === undefined ? undefined : { ttlMs: num(f.stickTtl) },
      maxConnectionsPerBackend: num(f.maxConnsPerBackend), connectTimeoutMs: num(f.connectTimeout),
      coalesceWindowMs: num(f.coalesce),
    }) };
    out.listeners = [definedOnly({
      listen: f.listen ?? '127.0.0.1:7000', protocol: f.udp ? 'udp' : 'tcp', pool: 'default',
      maxConnections: num(f.maxConns), idleTimeoutMs: num(f.idleTimeout),
    })];
  } else if (f.listen !== undefined || f.balance !== undefined || f.udp !== undefined || f.proxyProtocol !== undefined) {
    throw new ConfigError('--listen, --balance, --udp and --proxy-protocol describe a listener of --backend flags (or use --config)');
  }
  const log = definedOnly({ level: f.logLevel, format: f.logFormat, accessLog: f.accessLog?.split(',').map((s) => s.trim()).filter(Boolean) });
  if (Object.keys(log).length > 0) out.log = log;
  const admin = definedOnly({ listen: f.admin, token: f.adminToken });
  if (Object.keys(admin).length > 0) out.admin = admin;
  if (f.shutdownGrace !== undefined) out.shutdown = { graceMs: Number(f.shutdownGrace) };
  if (f.workers !== undefined) out.cluster = { workers: parseWorkersFlag(f.workers) };
  return out;
}

export function loadL4Config(flags: L4Flags): L4Config {
  const fromFile = flags.config === undefined ? {} : readConfigFile(flags.config);
  const merged = mergeConfig(fromFile, l4FlagsToConfig(flags));
  return validateConfig(l4ConfigSchema, merged, flags.config === undefined ? 'flags' : `${flags.config} + flags`);
}

export function l4Command(): Command {
  return new Command('l4').description('run the L4 (TCP/UDP) load balancer: pools, health, stickiness, PROXY protocol, SNI routing')
    .option('-c, --config <file>', 'l4.yaml: several listeners, pools, SNI routes (SIGHUP re-reads it)')
    .option('--listen <host:port>', 'address of the listener of the --backend pool (default 127.0.0.1:7000)')
    .option('--backend <host:port>', 'a backend (repeat the flag)', collect)
    .option('--balance <policy>', `${BALANCE_HELP.split('|').filter((s) => !/path|header|cookie/.test(s)).join('|')}`)
    .option('--udp', 'balance UDP datagrams (per-client sessions) instead of TCP connections')
    .option('--proxy-protocol <version>', 'send a PROXY protocol header to backends: v1|v2 (--udp: v2 only, on every datagram)')
    .option('--health-interval <ms>', 'active TCP connect checks every MS')
    .option('--stick-ttl <ms>', 'stick table: a client IP keeps its backend until idle this long')
    .option('--max-conns <n>', 'connections (UDP: sessions) at once on the listener (default 10000)')
    .option('--max-conns-per-backend <n>', 'connections at once per backend (default 0: unlimited)')
    .option('--connect-timeout <ms>', 'backend connect timeout (default 3000)')
    .option('--idle-timeout <ms>', 'close connections idle this long (default TCP 300000, UDP 30000)')
    .option('--coalesce <ms>', 'coalesce client writes towards backends for MS (cork/uncork; default 0: off)')
    .option('--admin <host:port>', 'serve the admin endpoint (metrics, flows, events, upstreams); off by default')
    .option('--admin-token <token>', 'require Authorization: Bearer TOKEN on the admin endpoint')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (info: one access-log line per connection)')
    .option('--log-format <format>', 'access-log lines: json (default) | squid | combined')
    .option('--access-log <dest>', 'access-log destinations: - (stdout) or files, comma-separated')
    .option('--shutdown-grace <ms>', 'time established connections get on SIGTERM (default 10000)')
    .option('--workers <n|auto>', 'worker processes sharing the listeners (default 1; auto = one per core)')
    .option('--tui', `show live connections and backends in a terminal UI; logs then go to ./${TUI_LOG_FILE}`)
    .action(async (flags: L4Flags) => {
      const config = loadL4Config(flags);
      if (flags.tui && config.cluster.workers !== 1) throw new Error('--tui runs in one process: use it without --workers (or attach with portico tui --connect)');
      // Workers accept on the shared listen socket themselves. node:cluster's default on Linux (round robin) has the
      // primary accept every connection and pass it to a worker over IPC, which doubled the CPU per new connection.
      if (cluster.isPrimary) cluster.schedulingPolicy = cluster.SCHED_NONE;
      if (await runClusterPrimaryIfAsked('l4', config, { version: VERSION })) return;
      const { log, tuiFd } = processLogger(config.log.level, flags.tui === true); // the TUI owns fd 1 when on
      const lb = await startL4(config, { log });
      let observers;
      try {
        const live = { inFlight: () => lb.active(), upstreams: () => lb.snapshot() };
        observers = isClusterWorker() ? workerObservers(lb.bus, config, live) : await startObservers(lb.bus, config, {
          mode: 'l4', version: VERSION, log, ...live,
          ...(tuiFd === undefined ? {} : { stdoutFd: tuiFd }),
        });
      } catch (err) {
        await lb.close(0);
        throw err;
      }
      // SIGHUP reloads a daemon; under --tui it means the terminal went away (runForwardTui stops then).
      if (!flags.tui) process.on('SIGHUP', () => {
        void (async () => {
          try {
            await lb.reload(loadL4Config(flags));
            lb.bus.emit({ type: 'config.reload', ok: true });
            log.info({ why: 'SIGHUP' }, 'configuration reloaded');
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            lb.bus.emit({ type: 'config.reload', ok: false, error });
            log.error({ why: 'SIGHUP', error }, 'configuration reload failed; the previous one stays in force');
          }
        })();
      });
      const o = observers;
      const stop = async (): Promise<void> => {
        await lb.close();
        await new Promise((resolve) => setImmediate(resolve)); // the bus delivers the last flows on the next turn
        await o.close();
      };
      if (flags.tui) {
        return runForwardTui({ mode: 'l4', bus: lb.bus, proxyUrl: lb.urls().join(' '), version: VERSION, log, stop,
          gauges: () => ({ inFlight: lb.active(), tunnels: 0 }) });
      }
      lb.bus.subscribe((e) => {
        if (e.type === 'backend.health') log.warn({ pool: e.pool, backend: e.backend, state: e.state, reason: e.reason }, 'backend health');
      }, { types: ['backend.health'] }); // only these: without other listeners no flow record is built per connection
      await runUntilSignal(log, stop, () => {
        if (isClusterWorker()) reportReady(lb.urls()); // the primary prints the ready lines once every worker listens
        else for (const url of lb.urls()) process.stdout.write(`portico l4 listening on ${url}\n`);
        if (observers.admin) process.stdout.write(`portico admin on ${observers.admin.url}\n`);
      });
    });
}
