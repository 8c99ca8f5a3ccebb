/**
 * `npm run soak`: minutes of mixed traffic through `portico forward` (Redis cache store) and `portico reverse`
 * (3 backends, active health checks), while the backends are killed and restarted one by one and Redis is killed
 * and restarted twice. Prints requests sent / succeeded / failed by reason, and the proxies' RSS over time.
 *   SOAK_SECONDS=180   duration (default 180)
 *   SOAK_WORKERS=6     concurrent request loops (each pauses 10 ms between requests)
 * Exit 1 when a failure cannot be blamed on a request in flight at a fault (at most one per worker per fault, within
 * 1.5 s of it), when a proxy died, or when RSS grew by more than max(40 MiB, 50 %) after warm-up.
 * Starts its own redis-server on a spare port (never the shared one on 6379). Not part of `npm test`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Pool } from 'undici';
import { ROOT, spawnReady, stopAll, stopChildrenOnSignal, type Proc } from './lib/procs.js';
import { freePort } from '../helpers/ports.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 6);
const FAULT_WINDOW_MS = 1500;
const DOWN_MS = 3000;
const MAIN = join(ROOT, 'dist', 'main.js');

type Kind = 'forward' | 'reverse';
interface Failure { at: number; kind: Kind; reason: string }
interface Fault { at: number; kind: Kind; what: string }

// A backend is a plain `node -e` process (fast to restart even on a loaded machine) that can be SIGKILLed.
const BACKEND_JS = `
const [port, name] = [Number(process.argv[1]), process.argv[2]];
require('node:http').createServer((req, res) => {
  if (req.url === '/healthz') return void res.end('ok');
  req.resume();
  req.on('end', () => {
    const n = Number(new URL(req.url, 'http://x').searchParams.get('n')) || 0;
    const body = Buffer.alloc(2048 + (n % 7) * 512, 0x61);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length, 'X-Backend': name });
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => process.stdout.write('ready ' + port + '\\n'));
`;

process.exitCode = await main();

async function main(): Promise<number> {
  const origin = await startOrigin();
  stopChildrenOnSignal(async () => { origin.close(); });
  const redisPort = await freePort();
  const backendPorts = await Promise.all([0, 1, 2].map(() => freePort()));
  let redis = await startRedis(redisPort);
  const backends = await Promise.all(backendPorts.map((p, i) => startBackend(p, i)));
  const forward = await spawnReady('forward', process.execPath, [MAIN, 'forward', '--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8',
    '--cache', `redis://127.0.0.1:${redisPort}`, '--log-level', 'warn'], { ready: /listening on (http:\/\/\S+)/ });
  const reverse = await spawnReady('reverse', process.execPath, [MAIN, 'reverse', '--listen', '127.0.0.1:0', '--health-path', '/healthz',
    '--log-level', 'error', ...backendPorts.flatMap((p) => ['--backend', `127.0.0.1:${p}`])], { ready: /listening on (http:\/\/\S+)/ });
  const forwardPool = new Pool(forward.match[1] ?? '', { connections: WORKERS });
  const reversePool = new Pool(reverse.match[1] ?? '', { connections: WORKERS });
  const started = Date.now();
  const endAt = started + SECONDS * 1000;
  const stats = { sent: 0, ok: 0, byKind: { forward: 0, reverse: 0 } as Record<Kind, number>, ms: { forward: 0, reverse: 0 } as Record<Kind, number> };
  const failures: Failure[] = [];
  const faults: Fault[] = [];
  const rss: Array<{ t: number; forward: number; reverse: number }> = [];
  console.error(`soak: ${SECONDS} s, ${WORKERS} workers; forward ${forward.match[1]} (redis :${redisPort}), reverse ${reverse.match[1]} (backends ${backendPorts.join(', ')})`);

  const sample = (): void => {
    rss.push({ t: Math.round((Date.now() - started) / 1000), forward: rssMiB(forward.proc), reverse: rssMiB(reverse.proc) });
  };
  sample();
  const sampler = setInterval(sample, Math.max(5000, (SECONDS * 1000) / 12));

  const worker = async (w: number): Promise<void> => {
    for (let i = 0; Date.now() < endAt; i++) {
      const kind: Kind = (i + w) % 2 === 0 ? 'forward' : 'reverse';
      stats.sent++;
      stats.byKind[kind]++;
      const t0 = performance.now();
      try {
        await (kind === 'forward' ? forwardRequest(forwardPool, origin.url, w, i) : reverseRequest(reversePool, w, i));
        stats.ok++;
      } catch (err) {
        failures.push({ at: Date.now(), kind, reason: reasonOf(err) });
      }
      stats.ms[kind] += performance.now() - t0;
      await sleep(10);
    }
  };

  const schedule: Array<[number, Kind, string, () => Promise<void>]> = [
    [0.12, 'reverse', 'kill backend 1', () => bounce(backends, 0, backendPorts)],
    [0.27, 'forward', 'kill redis', async () => { redis = await bounceRedis(redis, redisPort); }],
    [0.42, 'reverse', 'kill backend 2', () => bounce(backends, 1, backendPorts)],
    [0.57, 'reverse', 'kill backend 3', () => bounce(backends, 2, backendPorts)],
    [0.72, 'forward', 'kill redis', async () => { redis = await bounceRedis(redis, redisPort); }],
  ];
  // Each fault fires at its own time (a restart in progress never delays the next fault).
  const chaos = Promise.all(schedule.map(async ([frac, kind, what, act]) => {
    await sleep(Math.max(0, started + frac * SECONDS * 1000 - Date.now()));
    faults.push({ at: Date.now(), kind, what });
    console.error(`soak: t=${Math.round((Date.now() - started) / 1000)} s ${what} (restart after ${DOWN_MS} ms)`);
    await act();
  }));

  try {
    await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), chaos]);
  } finally {
    clearInterval(sampler);
    sample();
  }
  const alive = { forward: forward.proc.child.exitCode === null, reverse: reverse.proc.child.exitCode === null };
  await forwardPool.close();
  await reversePool.close();
  await stopAll();
  redis.kill('SIGKILL');
  origin.close();
  return report(stats, failures, faults, rss, alive);
}

// ---- traffic --------------------------------------------------------------------------------------------------------

async function forwardRequest(pool: Pool, origin: string, w: number, i: number): Promise<void> {
  const pick = i % 5;
  const path = pick < 3 ? `/c/${(w * 7 + i) % 40}` : pick === 3 ? `/n/${i}` : `/p/${i}`;
  const r = await pool.request({ path: `${origin}${path}`, method: pick === 4 ? 'POST' : 'GET', ...(pick === 4 ? { body: 'x'.repeat(500) } : {}) });
  const body = Buffer.from(await r.body.arrayBuffer());
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode} ${String(r.headers['x-portico-error'] ?? '')}`.trim());
  const expected = pick === 4 ? 500 : 4096;
  if (body.length !== expected) throw new Error(`body ${body.length} != ${expected}`);
}

async function reverseRequest(pool: Pool, w: number, i: number): Promise<void> {
  const r = await pool.request({ path: `/r?n=${w * 1000 + i}`, method: 'GET' });
  const body = Buffer.from(await r.body.arrayBuffer());
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode} ${String(r.headers['x-portico-error'] ?? '')}`.trim());
  if (body.length !== Number(r.headers['content-length'])) throw new Error('short body');
}

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code;
  return code ? `${code}: ${err.message}` : err.message;
}

// ---- the world: origin, backends, redis ----------------------------------------------------------------------------

async function startOrigin(): Promise<{ url: string; close(): void }> {
  const payload = Buffer.alloc(4096, 0x62);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; });
    req.on('end', () => {
      if (req.url?.startsWith('/p/')) return void res.writeHead(200, { 'Content-Length': n, 'Cache-Control': 'no-store' }).end(Buffer.alloc(n, 0x63));
      const cacheable = req.url?.startsWith('/c/') ?? false;
      res.writeHead(200, { 'Content-Length': payload.length, 'Cache-Control': cacheable ? 'max-age=5' : 'no-store' });
      res.end(payload);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => { server.closeAllConnections(); server.close(); },
  };
}

async function startBackend(port: number, i: number): Promise<Proc> {
  const { proc } = await spawnReady(`backend ${i + 1}`, process.execPath, ['-e', BACKEND_JS, String(port), `b${i + 1}`], { ready: /^ready / });
  return proc;
}

async function bounce(backends: Proc[], i: number, ports: number[]): Promise<void> {
  backends[i]?.child.kill('SIGKILL');
  await sleep(DOWN_MS);
  backends[i] = await startBackend(ports[i] ?? 0, i);
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    if (await tcpOpen(port)) return child;
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on ${port} did not start`);
}

async function bounceRedis(redis: ChildProcess, port: number): Promise<ChildProcess> {
  redis.kill('SIGKILL');
  await sleep(DOWN_MS);
  return startRedis(port);
}

// ---- report -----------------------------------------------------------------------------------------------------------

function report(
  stats: { sent: number; ok: number; byKind: Record<Kind, number>; ms: Record<Kind, number> }, failures: Failure[], faults: Fault[],
  rss: Array<{ t: number; forward: number; reverse: number }>, alive: Record<Kind, boolean>,
): number {
  const atFault = (f: Failure): Fault | undefined => faults.find((x) => x.kind === f.kind && f.at >= x.at && f.at <= x.at + FAULT_WINDOW_MS);
  const perFault = new Map<Fault, number>();
  const unexpected: Failure[] = [];
  for (const f of failures) {
    const fault = atFault(f);
    if (fault && (perFault.get(fault) ?? 0) < WORKERS) perFault.set(fault, (perFault.get(fault) ?? 0) + 1);
    else unexpected.push(f);
  }
  const byReason = new Map<string, number>();
  for (const f of failures) byReason.set(`${f.kind}: ${f.reason}`, (byReason.get(`${f.kind}: ${f.reason}`) ?? 0) + 1);
  console.log(`## Soak: ${SECONDS} s, ${WORKERS} workers\n`);
  console.log(`requests sent ${stats.sent} (forward ${stats.byKind.forward}, reverse ${stats.byKind.reverse}), succeeded ${stats.ok}, failed ${failures.length}`);
  const mean = (k: Kind): string => (stats.ms[k] / Math.max(1, stats.byKind[k])).toFixed(1);
  console.log(`  mean latency: forward ${mean('forward')} ms, reverse ${mean('reverse')} ms (a shared 2-core machine)`);
  console.log(`  in flight at a fault (allowed, <= ${WORKERS} per fault): ${failures.length - unexpected.length}; unexpected: ${unexpected.length}`);
  for (const [reason, n] of byReason) console.log(`  ${n} × ${reason}`);
  console.log(`faults: ${faults.map((f) => `${f.what} (${perFault.get(f) ?? 0} failed in flight)`).join('; ')}`);
  console.log('\n| t (s) | forward RSS (MiB) | reverse RSS (MiB) |\n|---:|---:|---:|');
  for (const s of rss) console.log(`| ${s.t} | ${s.forward.toFixed(1)} | ${s.reverse.toFixed(1)} |`);
  const problems: string[] = [];
  if (unexpected.length > 0) problems.push(`${unexpected.length} failures outside the fault windows (first: ${unexpected[0]?.kind} ${unexpected[0]?.reason})`);
  if (!alive.forward || !alive.reverse) problems.push(`a proxy died: ${JSON.stringify(alive)}`);
  const warm = rss[Math.floor(rss.length / 4)] ?? rss[0];
  const last = rss.at(-1);
  for (const kind of ['forward', 'reverse'] as const) {
    if (!warm || !last) break;
    const growth = last[kind] - warm[kind];
    if (growth > Math.max(40, warm[kind] * 0.5)) problems.push(`${kind} RSS grew ${growth.toFixed(1)} MiB after warm-up (${warm[kind].toFixed(1)} → ${last[kind].toFixed(1)})`);
  }
  console.log(problems.length === 0 ? '\nsoak: PASS' : `\nsoak: FAIL\n  ${problems.join('\n  ')}`);
  return problems.length === 0 ? 0 : 1;
}

// ---- small helpers ---------------------------------------------------------------------------------------------------

function rssMiB(proc: Proc): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.child.pid ?? 0}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
