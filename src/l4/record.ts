import type { ProxyError } from '../core/errors.js';
import type { FlowRecord, Notes } from '../core/flow.js';

/** What an L4 connection or UDP session leaves behind, gathered by tcp.ts / udp.ts as it runs. */
export interface L4FlowInfo {
  readonly id: string;
  readonly protocol: 'tcp' | 'udp';
  /** Wall-clock start, ms since the epoch. */
  readonly startedAt: number;
  readonly client: string;
  /** The listener's address (what the client connected to). */
  readonly listener: string;
  readonly listenerName: string | undefined;
  readonly pool: string | undefined;
  readonly backend: string | undefined;
  readonly attempts: number;
  readonly pick: string | undefined;
  readonly sni: string | undefined;
  /** Bytes from the client, and to the client. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connectMs: number | undefined;
  readonly durationMs: number;
  readonly close: string;
  readonly error: ProxyError | undefined;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** The one flow.end record of an L4 connection (mode 'l4', method TCP/UDP, url = the backend or the listener). */
export function l4Record(f: L4FlowInfo): FlowRecord {
  const notes: Notes = { close: f.close, attempts: f.attempts };
  if (f.listenerName !== undefined) notes.route = f.listenerName;
  if (f.pool !== undefined) notes.pool = f.pool;
  if (f.backend !== undefined) { notes.backend = f.backend; notes.upstream = f.backend; }
  if (f.pick !== undefined) notes.pick = f.pick;
  if (f.sni !== undefined) notes.sni = f.sni;
  const record: FlowRecord = {
    id: f.id, mode: 'l4', time: new Date(f.startedAt).toISOString(), client: f.client,
    method: f.protocol.toUpperCase(), url: `${f.protocol}://${f.backend ?? f.listener}`, version: '',
    bytesIn: f.bytesIn, bytesOut: f.bytesOut,
    timings: { ...(f.connectMs === undefined ? {} : { connect: round(f.connectMs) }), total: round(f.durationMs) },
    notes,
  };
  if (f.error !== undefined) record.error = { code: f.error.code, message: f.error.message };
  return record;
}
