/**
 * Portico as the CLI runs it: `node dist/main.js forward ...` in its own process (needs `npm run build`). The ready
 * line is `portico forward listening on http://HOST:PORT`, possibly followed by a note such as "(TLS interception on)".
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, spawnReady, type Proc } from './procs.js';

const MAIN = join(ROOT, 'dist', 'main.js');

export interface PorticoProcess { readonly url: string; readonly port: number; readonly proc: Proc }

export interface PorticoOptions {
  logLevel: 'warn' | 'info' | 'silent';
  connectPorts?: readonly number[];
  mitm?: { certs: string; upstreamCa: string };
  /** More flags, e.g. `--workers 2`. */
  extraArgs?: readonly string[];
}

export async function startPortico(name: string, opts: PorticoOptions): Promise<PorticoProcess> {
  const args = [MAIN, 'forward', '--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8', '--log-level', opts.logLevel];
  if (opts.connectPorts) args.push('--connect-ports', opts.connectPorts.join(','));
  if (opts.mitm) args.push('--mitm', '--certs', opts.mitm.certs, '--upstream-ca', opts.mitm.upstreamCa);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  const { proc, match } = await spawnReady(name, process.execPath, args, { ready: /^portico forward listening on (http:\/\/[^\s]+:(\d+))(?:\s|$)/ });
  return { url: match[1]!, port: Number(match[2]), proc };
}

/** `portico ca init --certs DIR`: the CA (ca.pem) intercepted clients must trust. */
export async function initCa(certs: string): Promise<string> {
  await promisify(execFile)(process.execPath, [MAIN, 'ca', 'init', '--certs', certs], { cwd: ROOT });
  return join(certs, 'ca.pem');
}
