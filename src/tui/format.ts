import type { Entry } from './entry.js';

export function humanBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)}M`;
  return `${(n / 1024 ** 3).toFixed(1)}G`;
}

export function humanMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms / 60_000)}m`;
}

const fit = (s: string, w: number): string => (s.length > w ? `${s.slice(0, Math.max(0, w - 1))}…` : s.padEnd(w));
const right = (s: string, w: number): string => (s.length > w ? s.slice(0, w) : s.padStart(w));

export type StatusColor = 'green' | 'cyan' | 'yellow' | 'red' | 'magenta' | 'gray';

/** The colour of a row by status class: 2xx green, 3xx cyan, 4xx yellow, 5xx/errors red, blocked magenta. */
export function rowColor(e: Entry): StatusColor {
  if (e.flow.error || e.tunnelError) return 'red';
  const p = e.flow.notes.policy;
  if (p && (p.action === 'block' || p.action === 'kill') && !p.reportOnly) return 'magenta';
  const s = e.flow.status;
  if (s === undefined) return 'gray';
  if (s >= 500) return 'red';
  if (s >= 400) return 'yellow';
  if (s >= 300) return 'cyan';
  return 'green';
}

function statusText(e: Entry): string {
  if (e.flow.status !== undefined) return String(e.flow.status);
  if (e.flow.error || e.tunnelError) return 'ERR';
  return e.kind === 'tunnel' ? 'TUN' : '-';
}

function policyText(e: Entry): string {
  const p = e.flow.notes.policy;
  if (!p || p.action === 'allow') return '';
  return p.reportOnly ? `~${p.action}` : p.action;
}

const FIXED = { time: 8, client: 15, method: 7, status: 3, size: 6, dur: 6, cache: 6, policy: 7, upstream: 18 };
const CACHE_SHORT: Record<string, string> = { uncacheable: 'uncach', revalidated: 'reval' };
const FIXED_WIDTH = Object.values(FIXED).reduce((a, b) => a + b + 1, 0);

export function headerRow(width: number): string {
  const url = Math.max(10, width - FIXED_WIDTH - 2);
  return `  ${fit('time', FIXED.time)} ${fit('client', FIXED.client)} ${fit('method', FIXED.method)} ${fit('host+path', url)} `
    + `${fit('st', FIXED.status)} ${right('size', FIXED.size)} ${right('time', FIXED.dur)} ${fit('cache', FIXED.cache)} `
    + `${fit('policy', FIXED.policy)} ${fit('upstream', FIXED.upstream)}`;
}

/** One pre-formatted list line (the list renders one <Text> per row, never a Box per cell). */
export function formatRow(e: Entry, width: number, selected: boolean): string {
  const f = e.flow;
  const url = Math.max(10, width - FIXED_WIDTH - 2);
  const where = e.kind === 'tunnel' ? f.url : `${e.host}${e.path}`;
  const upstream = f.notes.backend ?? f.notes.upstream ?? '';
  return `${selected ? '›' : ' '} ${fit(f.time.slice(11, 19), FIXED.time)} ${fit(f.client, FIXED.client)} `
    + `${fit(f.method, FIXED.method)} ${fit(where, url)} ${fit(statusText(e), FIXED.status)} `
    + `${right(humanBytes(f.bytesOut), FIXED.size)} ${right(humanMs(f.timings.total), FIXED.dur)} `
    + `${fit(CACHE_SHORT[f.notes.cache ?? ''] ?? f.notes.cache ?? '', FIXED.cache)} ${fit(policyText(e), FIXED.policy)} ${fit(upstream, FIXED.upstream)}`;
}
