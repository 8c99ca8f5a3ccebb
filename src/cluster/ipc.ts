import type { PurgePlan } from '../cache/purge.js';
import type { ProxyEvent } from '../core/events.js';

/** Worker → primary messages (node:cluster IPC, JSON-serialized). */
export type WorkerMessage =
  | { portico: 'ready'; urls: string[] }
  | { portico: 'event'; event: ProxyEvent }
  | { portico: 'purged'; id: number; count: number; error?: string }
  | { portico: 'stats'; id: number; stats: WorkerStats };

/**
 * A worker's live state, read when the primary's admin endpoint serves /metrics or /upstreams: the gauges its mode
 * has (undefined: the mode has none) and its pools' snapshots (BackendPool / L4Pool `snapshot()`, plain data).
 */
export interface WorkerStats {
  inFlight?: number;
  openTunnels?: number;
  /** portico_rejected_total by reason (a Map does not survive IPC's JSON). */
  rejections?: Record<string, number>;
  upstreams?: unknown[];
}

/** Primary → worker: send your WorkerStats (answered with a 'stats' message carrying the same id). */
export interface StatsRequest { portico: 'stats-request'; id: number }

export function asStatsRequest(msg: unknown): StatsRequest | undefined {
  return isObject(msg) && msg.portico === 'stats-request' && typeof msg.id === 'number' ? { portico: 'stats-request', id: msg.id } : undefined;
}

/** Primary → worker: purge this plan from your cache store (the admin endpoint's POST /cache/purge). */
export interface PurgeRequest { portico: 'purge'; id: number; plan: PurgePlan }

export function asPurgeRequest(msg: unknown): PurgeRequest | undefined {
  if (!isObject(msg) || msg.portico !== 'purge' || typeof msg.id !== 'number' || !isObject(msg.plan)) return undefined;
  const plan = msg.plan;
  if (!Array.isArray(plan.keys) || !Array.isArray(plan.scopes) || typeof plan.what !== 'string') return undefined;
  return { portico: 'purge', id: msg.id, plan: plan as unknown as PurgePlan };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Narrows a message from a worker; anything else (another library's message) is ignored. */
export function asWorkerMessage(msg: unknown): WorkerMessage | undefined {
  if (!isObject(msg)) return undefined;
  if (msg.portico === 'ready' && Array.isArray(msg.urls) && msg.urls.every((u) => typeof u === 'string')) {
    return { portico: 'ready', urls: msg.urls as string[] };
  }
  if (msg.portico === 'event' && isObject(msg.event) && typeof msg.event.type === 'string') {
    return { portico: 'event', event: msg.event as ProxyEvent };
  }
  if (msg.portico === 'purged' && typeof msg.id === 'number' && typeof msg.count === 'number') {
    return { portico: 'purged', id: msg.id, count: msg.count, ...(typeof msg.error === 'string' ? { error: msg.error } : {}) };
  }
  if (msg.portico === 'stats' && typeof msg.id === 'number' && isObject(msg.stats)) {
    return { portico: 'stats', id: msg.id, stats: asWorkerStats(msg.stats) };
  }
  return undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Keeps the fields of a WorkerStats that have the right type; a malformed field is dropped, not trusted. */
function asWorkerStats(raw: Record<string, unknown>): WorkerStats {
  const out: WorkerStats = {};
  const inFlight = num(raw.inFlight);
  const openTunnels = num(raw.openTunnels);
  if (inFlight !== undefined) out.inFlight = inFlight;
  if (openTunnels !== undefined) out.openTunnels = openTunnels;
  if (isObject(raw.rejections)) {
    const rejections: Record<string, number> = {};
    for (const [reason, n] of Object.entries(raw.rejections)) if (num(n) !== undefined) rejections[reason] = n as number;
    out.rejections = rejections;
  }
  if (Array.isArray(raw.upstreams)) out.upstreams = raw.upstreams as unknown[];
  return out;
}
