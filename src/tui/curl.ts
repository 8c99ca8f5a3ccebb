import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawHeaders } from '../core/flow.js';
import type { FlowRecord } from '../core/flow.js';
import { missingBodyNote, requestBodyCapture } from '../observe/request-body.js';
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

/**
 * Bash/zsh/ksh ANSI-C quoting, `$'…'`, of exact bytes: printable ASCII as itself, quote and backslash escaped,
 * everything else as `\xHH` (always two digits, so a following hex character is never swallowed). Undefined for a NUL
 * byte, which no shell argument can carry.
 */
export function ansiCQuote(bytes: Uint8Array): string | undefined {
  let out = "$'";
  for (const b of bytes) {
    if (b === 0) return undefined;
    if (b === 0x27 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}'`;
}

/** `--data-binary $'…'`; `--data-raw` when the body starts with `@`, which --data-binary would read as a file name. */
function dataArgs(text: string): string[] | undefined {
  const quoted = ansiCQuote(Buffer.from(text, 'utf8'));
  return quoted === undefined ? undefined : [text.startsWith('@') ? '--data-raw' : '--data-binary', quoted];
}

/**
 * The request as a curl command line, through the proxy when its URL is known. A request body captured whole
 * (`log.bodies`) goes in as `--data-binary $'…'`; one that was truncated or not captured is left out, and a trailing
 * shell comment says so instead of silently sending nothing.
 */
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
  const body = requestBodyCapture(f);
  let note = missingBodyNote(body);
  if (body.kind === 'complete') {
    const data = dataArgs(body.text);
    if (data) parts.push(...data);
    else note = `request body of ${body.bytes} bytes contains NUL bytes and is not included`;
  }
  parts.push(shellQuote(f.url));
  return note ? `${parts.join(' ')}  # NOTE: ${note}` : parts.join(' ');
}

export function flowFileName(id: string, ext: string): string {
  return `portico-flow-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.${ext}`;
}

/** Writes `portico-flow-<id>.sh` in dir and returns its path (bash: a body is quoted as `$'…'`). */
export async function writeCurlFile(dir: string, e: Entry, proxyUrl?: string): Promise<string> {
  const path = join(dir, flowFileName(e.flow.id, 'sh'));
  const body = e.kind === 'flow' ? requestBodyCapture(e.flow) : { kind: 'none' as const };
  const about = body.kind === 'complete' ? `; request body included, ${body.bytes} bytes`
    : body.kind === 'none' ? '' : '; request body NOT included, see the note at the end of the command';
  await writeFile(path, `#!/usr/bin/env bash\n# ${e.flow.method} ${e.flow.url} (flow ${e.flow.id}${about})\n${curlCommand(e, proxyUrl)}\n`, { mode: 0o700 });
  return path;
}
