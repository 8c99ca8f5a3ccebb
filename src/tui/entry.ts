import type { ProxyEvent } from '../core/events.js';
import type { FlowRecord } from '../core/flow.js';

export type TunnelEnd = Extract<ProxyEvent, { type: 'tunnel.end' }>;

/** One row of the list: an HTTP flow, or a tunnel (a CONNECT) shown as a CONNECT row. Host/path parsed once. */
export interface Entry {
  readonly seq: number;
  readonly kind: 'flow' | 'tunnel';
  readonly flow: FlowRecord;
  readonly host: string;
  readonly path: string;
  readonly tunnelError?: string;
}

function splitUrl(url: string): { host: string; path: string } {
  try {
    const u = new URL(url);
    return { host: u.host, path: u.pathname + u.search };
  } catch {
    return { host: url, path: '' }; // authority form (host:port) of a CONNECT
  }
}

export function flowEntry(seq: number, flow: FlowRecord): Entry {
  const { host, path } = splitUrl(flow.url);
  return { seq, kind: 'flow', flow, host, path };
}

/** A finished tunnel as a row; `time` is when the TUI saw its end (events carry no start time). */
export function tunnelEntry(seq: number, ev: TunnelEnd, time: string): Entry {
  const host = ev.target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const flow: FlowRecord = {
    id: ev.id, mode: 'forward', time, client: ev.client, method: 'CONNECT', url: ev.target, version: '1.1',
    bytesIn: ev.bytesIn, bytesOut: ev.bytesOut, timings: { total: ev.durationMs }, notes: { intercepted: ev.intercepted },
  };
  return ev.error === undefined
    ? { seq, kind: 'tunnel', flow, host, path: '' }
    : { seq, kind: 'tunnel', flow, host, path: '', tunnelError: ev.error };
}

export function isError(e: Entry): boolean {
  return e.flow.error !== undefined || e.tunnelError !== undefined;
}

export function isBlocked(e: Entry): boolean {
  const p = e.flow.notes.policy;
  return p !== undefined && (p.action === 'block' || p.action === 'kill') && p.reportOnly !== true;
}
