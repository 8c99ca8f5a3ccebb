import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawHeaders } from '../core/flow.js';
import type { FlowRecord } from '../core/flow.js';
import type { Entry } from './entry.js';

/**
 * Fields a replay or a curl command must not resend: hop-by-hop, proxy credentials, framing, redacted values, and
 * Via (the captured request may carry Portico's own, which would look like a forwarding loop).
 */
const SKIP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'content-length', 'host', 'via']);

/** The captured request headers worth resending (none when the logger did not capture headers). */
export function replayHeaders(flow: FlowRecord): RawHeaders {
  return (flow.requestHeaders ?? [])
    .filter(([name, value]) => !SKIP.has(name.toLowerCase()) && !/^\[REDACTED\]$/i.test(value));
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The request as a curl command line, through the proxy when its URL is known. Bodies are never captured. */
export function curlCommand(e: Entry, proxyUrl?: string): string {
  const f = e.flow;
  const parts = ['curl'];
  if (proxyUrl) parts.push('--proxy', shellQuote(proxyUrl));
  if (e.kind === 'tunnel') {
    parts.push(shellQuote(`https://${f.url.replace(/:443$/, '')}/`));
    return parts.join(' ');
  }
  if (f.method === 'HEAD') parts.push('--head');
  else if (f.method !== 'GET') parts.push('-X', shellQuote(f.method));
  for (const [name, value] of replayHeaders(f)) parts.push('-H', shellQuote(`${name}: ${value}`));
  parts.push(shellQuote(f.url));
  return parts.join(' ');
}

export function flowFileName(id: string, ext: string): string {
  return `portico-flow-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.${ext}`;
}

/** Writes `portico-flow-<id>.sh` in dir and returns its path. */
export async function writeCurlFile(dir: string, e: Entry, proxyUrl?: string): Promise<string> {
  const path = join(dir, flowFileName(e.flow.id, 'sh'));
  await writeFile(path, `#!/bin/sh\n# ${e.flow.method} ${e.flow.url} (flow ${e.flow.id}; request body not captured)\n${curlCommand(e, proxyUrl)}\n`, { mode: 0o700 });
  return path;
}
