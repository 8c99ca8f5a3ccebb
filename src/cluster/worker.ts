import cluster from 'node:cluster';
import type { PurgePlan } from '../cache/purge.js';
import type { AdminConfig, LogConfig } from '../config/schema.js';
import type { EventBus } from '../core/events.js';
import type { Observers } from '../observe/observers.js';
import { asPurgeRequest, asStatsRequest, type WorkerMessage, type WorkerStats } from './ipc.js';

/** True inside a worker process started by the cluster primary. */
export const isClusterWorker = (): boolean => cluster.isWorker;

const VERBOSE = new Set(['info', 'debug', 'trace']);

function send(msg: WorkerMessage): boolean {
  return process.send?.(msg) ?? false;
}

/** What a worker's mode can tell the primary: the same live providers a single process gives startObservers. */
export interface WorkerProviders {
  purgeCache?(plan: PurgePlan): Promise<number>;
  inFlight?(): number;
  openTunnels?(): number;
  rejections?(): ReadonlyMap<string, number>;
  upstreams?(): unknown[];
}

/** This worker's live state for the primary's /metrics and /upstreams (only the fields its mode provides). */
export function workerStats(p: WorkerProviders): WorkerStats {
  const out: WorkerStats = {};
  if (p.inFlight) out.inFlight = p.inFlight();
  if (p.openTunnels) out.openTunnels = p.openTunnels();
  if (p.rejections) out.rejections = Object.fromEntries(p.rejections());
  if (p.upstreams) out.upstreams = p.upstreams();
  return out;
}

/**
 * A worker's observers: none of its own (the primary owns the access log and the admin endpoint); its events go to the
 * primary over IPC, and only when the primary has something that reads them, so an unobserved worker's bus stays idle.
 * It answers the primary's purge calls and, when the primary's admin endpoint is read, its gauges and pool state.
 */
export function workerObservers(bus: EventBus, config: { log: LogConfig; admin: AdminConfig }, providers: WorkerProviders = {}): Observers {
  const wanted = VERBOSE.has(config.log.level) || config.admin.listen !== undefined;
  const sub = wanted ? bus.subscribe((event) => { send({ portico: 'event', event }); }) : undefined;
  const onMessage = (raw: unknown): void => {
    const stats = asStatsRequest(raw);
    if (stats) return void send({ portico: 'stats', id: stats.id, stats: workerStats(providers) });
    const req = asPurgeRequest(raw);
    if (!req) return;
    const purge = providers.purgeCache ?? (() => Promise.resolve(0));
    purge(req.plan).then(
      (count) => send({ portico: 'purged', id: req.id, count }),
      (err: unknown) => send({ portico: 'purged', id: req.id, count: 0, error: err instanceof Error ? err.message : String(err) }),
    );
  };
  process.on('message', onMessage);
  return {
    accessLog: undefined, admin: undefined, ring: undefined, metrics: undefined,
    close: async () => {
      sub?.close();
      process.off('message', onMessage);
    },
  };
}

/** Tells the primary this worker listens (the primary prints the ready lines once every worker does). */
export function reportReady(urls: string | readonly string[]): void {
  send({ portico: 'ready', urls: typeof urls === 'string' ? [urls] : [...urls] });
}
