import { missingBodyNote, requestBodyCapture } from '../observe/request-body.js';
import type { Entry } from './entry.js';
import { humanBytes, humanMs } from './format.js';

/** The detail screen's text, one string per line (pure: the component and the scroll bounds share it). */
export function detailLines(e: Entry): string[] {
  const f = e.flow;
  const n = f.notes;
  const lines = [
    `${f.method} ${f.url}  →  ${f.status ?? (e.kind === 'tunnel' ? 'tunnel' : '-')}`,
    `id ${f.id}${n.requestId !== undefined && n.requestId !== f.id ? `  request ${n.requestId}` : ''}  mode ${f.mode}  client ${f.client}${f.user ? ` (${f.user})` : ''}  HTTP/${f.version}  at ${f.time}`,
    `bytes in ${humanBytes(f.bytesIn)}  out ${humanBytes(f.bytesOut)}  cache ${n.cache ?? '-'}  upstream ${n.backend ?? n.upstream ?? '-'}`
      + `${n.pool ? `  pool ${n.pool}` : ''}${n.intercepted ? '  intercepted' : ''}`,
    `timings: first byte ${humanMs(f.timings.firstByte)}  total ${humanMs(f.timings.total)}`,
    n.policy
      ? `policy: ${n.policy.action}${n.policy.reportOnly ? ' (report only)' : ''} by rule ${n.policy.rule}${n.policy.source ? ` (${n.policy.source})` : ''}`
        + `${n.policy.category ? `  category ${n.policy.category}` : ''}`
      : 'policy: -',
  ];
  if (n.policy?.explain) lines.push(`  why: ${n.policy.explain}`);
  lines.push(`origin saw (anonymized): ${n.anonymized?.length ? n.anonymized.join('; ') : 'no changes'}`);
  if (f.error) lines.push(`error: ${f.error.code} ${f.error.message}`);
  if (e.tunnelError) lines.push(`error: ${e.tunnelError}`);
  for (const [title, list] of [['request headers', f.requestHeaders], ['response headers', f.responseHeaders]] as const) {
    if (list && list.length > 0) lines.push(`${title}:`, ...list.map(([k, v]) => `  ${k}: ${v}`));
  }
  if (!f.requestHeaders) lines.push('headers: not captured (--log-headers or log.headers: true)');
  if (e.kind === 'flow') lines.push(requestBodyLine(f));
  return lines;
}

/** What x (curl) and r (replay) can resend of the request body. */
function requestBodyLine(f: Entry['flow']): string {
  const body = requestBodyCapture(f);
  if (body.kind === 'none') return 'request body: none';
  if (body.kind === 'complete') return `request body: ${body.bytes} bytes, captured whole (x and r resend it)`;
  return `${missingBodyNote(body) ?? ''}; x and r leave it out`;
}

/** Rows the wrapped curl command takes below the lines (80 columns a row, and a blank line). */
export const curlRows = (curl: string | undefined): number => (curl ? Math.ceil(curl.length / 80) + 1 : 0);

/** The first line stays; the others scroll within height − curl rows. Returns the furthest useful scroll. */
export function maxDetailScroll(e: Entry, curl: string | undefined, height: number): number {
  return Math.max(0, detailLines(e).length - 1 - Math.max(1, height - curlRows(curl)));
}
