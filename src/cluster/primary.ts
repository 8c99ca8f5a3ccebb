import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { PurgePlan } from '../cache/purge.js';
import { ConfigError } from '../config/load.js';
import type { AdminConfig, LogConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createEventBus } from '../core/events.js';
import { flushLogger } from '../observe/logger.js';
import { startObservers } from '../observe/observers.js';
import { asWorkerMessage } from './ipc.js';
import { PurgeFanOut } from './purge.js';
import { decideRestart, type RestartOptions } from './restart-policy.js';
import { WorkerStatsView } from './stats-view.js';

export interface PrimaryOptions {
  readonly mode: string;
  readonly workers: number;
  readonly restart: RestartOptions & { readonly ipcTimeoutMs: number };
  readonly config: { log: LogConfig; admin: AdminConfig; shutdown: { graceMs: number } };
  readonly version: string;
  /** Node's options for the workers (worker-args.ts). */
  readonly workerExecArgv: readonly string[];
  readonly log: Logger;
  readonly clock?: Clock;
  /** The mode has an HTTP cache: the admin purge call is sent to every worker (each may hold its own memory store). */
  readonly cache?: { store: string };
}

/** Time a worker gets beyond the shutdown grace to exit on its own before it is killed. */
const EXIT_MARGIN_MS = 5_000;
/**
 * How long /metrics and /upstreams wait for the workers' live state (at most cluster.ipcTimeoutMs): a scrape must not
 * hang on one stuck worker; what it did not say is left out of the sums.
 */
const STATS_TIMEOUT_MS = 2_000;

/**
 * The cluster primary of `--workers N`: forks N workers running the same command (they share the listen socket through
 * node:cluster), merges their flow events into one bus (one access log, one admin endpoint; each flow says its worker
 * in notes.worker), restarts a crashed worker with bounded back-off, forwards SIGHUP, and on SIGTERM lets every worker
 * drain before exiting 0. Resolves once every worker listens; from then on the primary's signal handlers end the process.
 */
export async function runPrimary(o: PrimaryOptions): Promise<void> {
  const { log } = o;
  const clock = o.clock ?? systemClock;
  const bus = createEventBus((err) => log.error({ err }, 'event subscriber failed'));
  const purges = new PurgeFanOut(o.restart.ipcTimeoutMs);
  const hasCache = o.cache !== undefined && o.cache.store !== 'off';
  if (o.cache?.store === 'memory') log.warn({ workers: o.workers }, 'each worker has its own memory cache; use a Redis store (cache.store) to share one');
  const stats = new WorkerStatsView(Math.min(STATS_TIMEOUT_MS, o.restart.ipcTimeoutMs));
  const observers = await startObservers(bus, o.config, {
    mode: o.mode, version: o.version, log, ...(hasCache ? { purgeCache: (plan: PurgePlan) => purges.run(plan, liveWorkers()) } : {}),
    refresh: () => stats.refresh(liveWorkers()),
    inFlight: () => stats.merged.inFlight, openTunnels: () => stats.merged.openTunnels,
    rejections: () => stats.merged.rejections, upstreams: () => stats.merged.upstreams,
  });
  const restarts: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  cluster.on('message', (worker: Worker, raw: unknown) => {
    const msg = asWorkerMessage(raw);
    if (msg?.portico === 'purged') return purges.answer(worker, msg.id, msg.count, msg.error);
    if (msg?.portico === 'stats') return stats.answer(worker, msg.id, msg.stats);
    if (msg?.portico !== 'event') return;
    if (msg.event.type === 'flow.end' && worker.process.pid !== undefined) msg.event.flow.notes.worker = worker.process.pid;
    bus.emit(msg.event);
  });
  cluster.setupPrimary({ execArgv: [...o.workerExecArgv] });
  const urls = await startWorkers(o.workers, log).catch(async (err: unknown) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    await observers.close();
    throw err;
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.warn({ worker: worker.process.pid, code, signal }, 'worker died');
    const now = clock.monotonic();
    const decision = decideRestart(restarts, now, o.restart);
    if (!decision.restart) {
      log.error({ reason: decision.reason, left: liveWorkers().length }, 'worker not restarted');
      if (liveWorkers().length === 0) void stop(1);
      return;
    }
    restarts.push(now);
    const t = setTimeout(() => {
      timers.delete(t);
      if (stopping) return;
      const w = cluster.fork();
      log.info({ worker: w.process.pid, afterMs: decision.delayMs }, 'worker restarted');
    }, decision.delayMs);
    timers.add(t);
  });
  const stop = async (exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const t of timers) clearTimeout(t);
    await stopWorkers(o.config.shutdown.graceMs + EXIT_MARGIN_MS);
    await observers.close();
    await flushLogger(log);
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.on('SIGHUP', () => { for (const w of liveWorkers()) w.process.kill('SIGHUP'); });
  for (const url of urls) process.stdout.write(`portico ${o.mode} listening on ${url}\n`);
  process.stdout.write(`portico workers: ${o.workers} (pids ${liveWorkers().map((w) => w.process.pid).join(', ')})\n`);
  if (observers.admin) process.stdout.write(`portico admin on ${observers.admin.url}\n`);
  log.info({ workers: o.workers, urls }, 'cluster started');
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
}

/** Forks n workers and waits for each one's ready message; a worker that exits first fails the start (its exit code). */
function startWorkers(n: number, log: Logger): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ready = new Set<number>();
    let urls: string[] = [];
    const onMessage = (worker: Worker, raw: unknown): void => {
      const msg = asWorkerMessage(raw);
      if (msg?.portico !== 'ready') return;
      urls = msg.urls;
      ready.add(worker.id);
      if (ready.size === n) done();
    };
    const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
      if (ready.has(worker.id)) return;
      log.error({ worker: worker.process.pid, code, signal }, 'worker exited during start');
      const message = `a worker exited during start (code ${String(code)}, signal ${String(signal)})`;
      done(code === 2 ? new ConfigError(message) : new Error(message)); // 2: its configuration was refused
    };
    const done = (err?: Error): void => {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      if (err) reject(err);
      else resolve(urls);
    };
    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
    for (let i = 0; i < n; i++) cluster.fork();
  });
}

/** SIGTERM to every worker (each drains like a single process would), SIGKILL to any still alive after `waitMs`. */
async function stopWorkers(waitMs: number): Promise<void> {
  const workers = liveWorkers();
  const exits = workers.map((w) => new Promise<void>((resolve) => {
    if (w.isDead()) return resolve();
    w.once('exit', () => resolve());
  }));
  for (const w of workers) w.process.kill('SIGTERM');
  const timer = setTimeout(() => { for (const w of liveWorkers()) w.process.kill('SIGKILL'); }, waitMs);
  await Promise.all(exits);
  clearTimeout(timer);
}
