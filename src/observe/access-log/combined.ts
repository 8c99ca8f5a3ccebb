import type { FlowRecord } from '../../core/flow.js';
import { clientIp, headerValue } from './fields.js';
import { tunnelOutcome } from './squid.js';
import type { TunnelEnd } from './types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Apache/nginx combined: `%h %l %u [%t] "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`. Referer and User-Agent are
 * only known when headers are captured (`log.headers`); otherwise "-".
 */
export function combinedFlow(r: FlowRecord): string {
  const referer = headerValue(r.requestHeaders, 'referer');
  const agent = headerValue(r.requestHeaders, 'user-agent');
  return `${clientIp(r.client)} - ${r.user ? quoteless(r.user) : '-'} [${clfTime(Date.parse(r.time))}] `
    + `"${quoteless(r.method)} ${quoteless(r.url)} HTTP/${r.version}" ${r.status ?? 0} ${r.bytesOut || '-'} `
    + `"${referer ? quoteless(referer) : '-'}" "${agent ? quoteless(agent) : '-'}"`;
}

export function combinedTunnel(t: TunnelEnd, nowMs: number): string {
  const [, status] = tunnelOutcome(t.error);
  return `${clientIp(t.client)} - - [${clfTime(nowMs - t.durationMs)}] "CONNECT ${quoteless(t.target)} HTTP/1.1" `
    + `${status} ${t.bytesOut || '-'} "-" "-"`;
}

/** 10/Oct/2000:13:55:36 +0000 (always UTC). */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:`
    + `${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const UNSAFE = /["\\\x00-\x1f\x7f]/g;

/** Escapes what would break the quoted fields (as nginx does with \xHH). */
function quoteless(s: string): string {
  return s.replace(UNSAFE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
