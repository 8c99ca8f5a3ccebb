import type { ListenSpec } from './listen-schema.js';

/** What a reload does to the listeners: indexes into the current and the next `listen:` lists. */
export interface ListenerPlan {
  /** Same address, same kind of server: kept with its connections (an HTTPS one reads its certificate files again). */
  readonly keep: ReadonlyArray<readonly [current: number, next: number]>;
  /**
   * Same address but HTTP ↔ HTTPS or other TLS server options, or another host on the port of a listener that goes:
   * the old server stops accepting, then the new one binds.
   */
  readonly rebind: ReadonlyArray<readonly [current: number, next: number]>;
  /** New addresses, bound before anything else changes. */
  readonly add: readonly number[];
  /** Addresses no longer listed: stop accepting, in-flight requests finish within the shutdown grace. */
  readonly remove: readonly number[];
}

const addressOf = (s: ListenSpec): string => `${s.host} ${s.port}`;

/** Certificates can be swapped on a live server; the protocol, minimum version and handshake timeout cannot. */
function sameServer(a: ListenSpec, b: ListenSpec): boolean {
  if (a.tls === undefined || b.tls === undefined) return a.tls === b.tls;
  return a.tls.minVersion === b.tls.minVersion && a.tls.handshakeTimeoutMs === b.tls.handshakeTimeoutMs;
}

/**
 * Pure: matches the next `listen:` entries to the current listeners by configured address (host and port as written,
 * so `127.0.0.1:0` keeps its listener and the port it got). Each current listener matches at most one entry.
 */
export function planListeners(current: readonly ListenSpec[], next: readonly ListenSpec[]): ListenerPlan {
  const byAddress = new Map<string, number[]>();
  current.forEach((spec, i) => {
    const list = byAddress.get(addressOf(spec));
    if (list === undefined) byAddress.set(addressOf(spec), [i]);
    else list.push(i);
  });
  const keep: Array<[number, number]> = [];
  const rebind: Array<[number, number]> = [];
  const unmatched: number[] = [];
  const matched = new Set<number>();
  next.forEach((spec, j) => {
    const i = byAddress.get(addressOf(spec))?.shift();
    if (i === undefined) return void unmatched.push(j);
    matched.add(i);
    (sameServer(current[i] as ListenSpec, spec) ? keep : rebind).push([i, j]);
  });
  // A new host on a port a removed listener holds (127.0.0.1:8081 → 0.0.0.0:8081) could not be bound beside it: the
  // old one steps aside first, as for a rebind.
  const add: number[] = [];
  for (const j of unmatched) {
    const port = (next[j] as ListenSpec).port;
    const i = port === 0 ? -1 : current.findIndex((spec, k) => !matched.has(k) && spec.port === port);
    if (i < 0) add.push(j);
    else {
      matched.add(i);
      rebind.push([i, j]);
    }
  }
  const remove = current.map((_, i) => i).filter((i) => !matched.has(i));
  return { keep, rebind, add, remove };
}
