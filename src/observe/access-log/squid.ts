import type { FlowRecord } from '../../core/flow.js';
import type { TunnelEnd } from './types.js';
import { clientIp, endTimeMs, headerValue, hostOf } from './fields.js';

/**
 * Squid's native access.log line (`logformat squid`):
 * `%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`, so SARG/Calamaris-style analyzers read it.
 * Bytes are body bytes sent to the client (Portico does not count header bytes).
 */
export function squidFlow(r: FlowRecord): string {
  const elapsed = Math.round(r.timings.total ?? 0);
  const status = String(r.status ?? 0).padStart(3, '0');
  const type = headerValue(r.responseHeaders, 'content-type')?.split(';')[0]?.trim() || '-';
  return `${squidTime(endTimeMs(r))} ${String(elapsed).padStart(6)} ${clientIp(r.client)} ${squidCode(r)}/${status} `
    + `${r.bytesOut} ${r.method} ${squidToken(r.url)} ${squidToken(r.user)} ${hierarchy(r)} ${type}`;
}

/** A CONNECT tunnel: `TCP_TUNNEL/200`, or `TCP_DENIED/403` when policy/ports/access refused it. */
export function squidTunnel(t: TunnelEnd, nowMs: number): string {
  const [code, status] = tunnelOutcome(t.error);
  const peer = code === 'TCP_TUNNEL' ? `HIER_DIRECT/${hostOf(t.target)}` : 'HIER_NONE/-';
  return `${squidTime(nowMs)} ${String(t.durationMs).padStart(6)} ${clientIp(t.client)} ${code}/${status} `
    + `${t.bytesOut} CONNECT ${t.target} - ${peer} -`;
}

export function tunnelOutcome(error: string | undefined): [code: string, status: number] {
  if (error === undefined) return ['TCP_TUNNEL', 200];
  if (error.startsWith('PROXY_AUTH')) return ['TCP_DENIED', 407];
  if (error.startsWith('FORBIDDEN') || error.startsWith('POLICY')) return ['TCP_DENIED', 403];
  if (error.includes('TIMEOUT')) return ['TCP_TUNNEL', 504];
  return ['TCP_TUNNEL', 502];
}

function squidTime(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function squidToken(s: string | undefined): string {
  return s === undefined || s === '' ? '-' : s.replace(/\s/g, '%20');
}

/** Squid result codes from Portico's notes: cache outcome, denials, aborts. */
export function squidCode(r: FlowRecord): string {
  const denied = (r.notes.policy?.action === 'block' && !r.notes.policy.reportOnly)
    || r.status === 407 || r.error?.code.startsWith('FORBIDDEN') === true;
  if (denied) return 'TCP_DENIED';
  let code: string;
  switch (r.notes.cache) {
    case 'hit': code = 'TCP_HIT'; break;
    case 'stale': code = 'TCP_REFRESH_FAIL_OLD'; break;
    case 'revalidated': code = 'TCP_REFRESH_UNMODIFIED'; break;
    default: code = 'TCP_MISS';
  }
  return r.error?.code === 'CLIENT_ABORTED' ? `${code}_ABORTED` : code;
}

function hierarchy(r: FlowRecord): string {
  if (r.notes.source !== 'upstream' || r.notes.cache === 'hit' || !r.notes.upstream) return 'HIER_NONE/-';
  return `HIER_DIRECT/${hostOf(r.notes.upstream)}`;
}
