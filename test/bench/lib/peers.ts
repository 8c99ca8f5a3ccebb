/**
 * nginx and HAProxy as L7 peers of `portico reverse` in the bench (issue 6 sets its target against nginx's req/s and
 * p99): round robin over the same backends with a keep-alive pool to them, two workers or threads (as ../shared/bench
 * runs them on this 2-core machine), no logging. Their configurations are ../shared/bench scenario E's. A peer whose
 * binary is not installed is left out with a note, not an error: the bench still measures Portico.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../helpers/ports.js';
import { trackProc, type Proc } from './procs.js';

export interface Peer {
  readonly name: string;
  readonly port: number;
  readonly proc: Proc;
}

export interface PeerPlan {
  /** A directory of its own for configs, pid files and temp files. */
  readonly dir: string;
  readonly backends: readonly number[];
  /** nginx worker_processes, HAProxy nbthread. */
  readonly workers: number;
}

/** Pure: nginx as scenario E's L7 peer. */
export function nginxL7Config(dir: string, port: number, backends: readonly number[], workers: number): string {
  return `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream pool {
${backends.map((b) => `    server 127.0.0.1:${b};`).join('\n')}
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffers 16 16k;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

/** Pure: HAProxy in http mode as scenario E's L7 peer. */
export function haproxyL7Config(dir: string, port: number, backends: readonly number[], threads: number): string {
  return `global
  maxconn 4096
  nbthread ${threads}
  pidfile ${dir}/haproxy.pid
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend l7
  bind 127.0.0.1:${port}
  default_backend pool
backend pool
  balance roundrobin
${backends.map((b, i) => `  server b${i + 1} 127.0.0.1:${b}`).join('\n')}
`;
}

/** nginx, or undefined (with a note on stderr) when it is not installed or does not start. */
export function startNginxL7(plan: PeerPlan): Promise<Peer | undefined> {
  // -e: the error log before the config is read goes here too, not to a system path that may not be writable.
  return startL7(plan, 'nginx', 'nginx.conf', nginxL7Config, (dir, conf) => ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf]);
}

/** HAProxy, or undefined (with a note on stderr) when it is not installed or does not start. */
export function startHaproxyL7(plan: PeerPlan): Promise<Peer | undefined> {
  return startL7(plan, 'haproxy', 'haproxy.cfg', haproxyL7Config, (_dir, conf) => ['-db', '-f', conf]);
}

type ConfigBuilder = (dir: string, port: number, backends: readonly number[], workers: number) => string;

/** Writes the peer's configuration for a free port in a folder of its own under plan.dir, then starts it in the foreground. */
async function startL7(plan: PeerPlan, name: string, file: string, config: ConfigBuilder, args: (dir: string, conf: string) => string[]): Promise<Peer | undefined> {
  const port = await freePort();
  const dir = join(plan.dir, `${name}-l7`);
  await mkdir(dir, { recursive: true });
  const conf = join(dir, file);
  await writeFile(conf, config(dir, port, plan.backends, plan.workers));
  return startPeer(name, name, args(dir, conf), port);
}

async function startPeer(name: string, command: string, args: readonly string[], port: number): Promise<Peer | undefined> {
  const child = spawn(command, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const proc = trackProc(name, child);
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => undefined),
    once(child, 'error').then(([err]) => err as Error),
  ]);
  if (spawned !== undefined) {
    console.error(`bench: ${name} left out (${(spawned as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : spawned.message})`);
    await proc.stop(1000);
    return undefined;
  }
  if (!(await accepting(port, 10_000, () => child.exitCode !== null))) {
    console.error(`bench: ${name} left out (not listening on 127.0.0.1:${port} within 10 s): ${proc.stderrTail()}`);
    await proc.stop(1000);
    return undefined;
  }
  return { name, port, proc };
}

/** Polls until 127.0.0.1:port accepts a connection; false after timeoutMs or once the process has exited. */
async function accepting(port: number, timeoutMs: number, exited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}
