import type { ProxyEvent } from '../core/events.js';

/** Worker → primary messages (node:cluster IPC, JSON-serialized). */
export type WorkerMessage =
  | { portico: 'ready'; url: string }
  | { portico: 'event'; event: ProxyEvent };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Narrows a message from a worker; anything else (another library's message) is ignored. */
export function asWorkerMessage(msg: unknown): WorkerMessage | undefined {
  if (!isObject(msg)) return undefined;
  if (msg.portico === 'ready' && typeof msg.url === 'string') return { portico: 'ready', url: msg.url };
  if (msg.portico === 'event' && isObject(msg.event) && typeof msg.event.type === 'string') {
    return { portico: 'event', event: msg.event as ProxyEvent };
  }
  return undefined;
}
