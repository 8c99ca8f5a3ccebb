import type { PurgePlan } from '../cache/purge.js';
import type { ProxyEvent } from '../core/events.js';

/** Worker → primary messages (node:cluster IPC, JSON-serialized). */
export type WorkerMessage =
  | { portico: 'ready'; urls: string[] }
  | { portico: 'event'; event: ProxyEvent }
  | { portico: 'purged'; id: number; count: number; error?: string };

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
  return undefined;
}
