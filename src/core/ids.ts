import { randomBytes } from 'node:crypto';

/**
 * Request ids: a per-process random prefix plus a counter — unique, sortable within a process, and cheap
 * (no crypto call per request).
 */
export function createIdGenerator(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  return () => `${prefix}-${(++n).toString(36).padStart(6, '0')}`;
}
