import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/core/flow.js';
import { startDemoBackend, type DemoBackend } from '../../src/demo/backend.js';
import { waitFor } from '../helpers/proxy.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
let backend: DemoBackend;
let proc: ChildProcess;
let out = '';
let proxy: URL;
let admin: string;
let pids: number[];

/** One request through the proxy on a fresh connection (keep-alive would pin every request to one worker). */
function get(path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: proxy.hostname, port: proxy.port, path: `${backend.url}${path}`, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', () => resolve(0));
    req.end();
  });
}

async function flows(): Promise<FlowRecord[]> {
  return (await (await fetch(`${admin}/flows?limit=10000`)).json()) as FlowRecord[];
}

const workersOf = (fs: FlowRecord[], path: string): Set<number> =>
  new Set(fs.filter((f) => f.url.endsWith(path)).map((f) => f.notes.worker).filter((w): w is number => w !== undefined));

beforeAll(async () => {
  backend = await startDemoBackend({ id: 'origin', host: '127.0.0.1', port: 0 });
  proc = spawn(process.execPath, [MAIN, 'forward', '--listen', '127.0.0.1:0', '--workers', '2', '--admin', '127.0.0.1:0',
    '--allow-target', '127.0.0.0/8', '--rules', join(import.meta.dirname, 'no-such-rules')], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  await waitFor(() => /^portico admin on /m.test(out) || undefined, 20_000);
  proxy = new URL(/^portico forward listening on (\S+)$/m.exec(out)?.[1] ?? '');
  admin = /^portico admin on (\S+)$/m.exec(out)?.[1] ?? '';
  pids = (/^portico workers: 2 \(pids (\d+), (\d+)\)$/m.exec(out) ?? []).slice(1).map(Number);
}, 30_000);

afterAll(async () => {
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  await backend.close();
});

describe('forward --workers 2', () => {
  it('two worker processes share the listen socket and both serve requests; one admin endpoint sees all flows', async () => {
    expect(pids).toHaveLength(2);
    const statuses = await Promise.all(Array.from({ length: 20 }, () => get('/spread')));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const seen = await waitForWorkers('/spread', 2);
    expect([...seen].sort()).toEqual([...pids].sort());
  });

  it('each worker runs its GC on its event-loop thread and without the memory reducer (cluster.singleThreadedGc, cluster.memoryReducer)', async () => {
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')).toEqual(expect.arrayContaining(['--single-threaded-gc', '--no-memory-reducer']));
    const primary = readFileSync(`/proc/${proc.pid ?? 0}/cmdline`, 'latin1').split('\0'); // the primary's own
    expect(primary).not.toContain('--single-threaded-gc');
    expect(primary).not.toContain('--no-memory-reducer');
  });

  it('the admin purge call reaches every worker\'s own memory cache', async () => {
    for (let i = 0; i < 10; i++) expect(await get('/cacheable?max-age=300')).toBe(200);
    const fs = await flows();
    const storing = new Set(fs.filter((f) => f.url.endsWith('/cacheable?max-age=300') && f.notes.cache === 'miss').map((f) => f.notes.worker));
    expect(storing.size).toBeGreaterThanOrEqual(1);
    const res = await fetch(`${admin}/cache/purge`, { method: 'POST', body: JSON.stringify({ all: true }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { purged: number }).purged).toBe(storing.size);
    const before = backend.served();
    expect(await get('/cacheable?max-age=300')).toBe(200);
    expect(backend.served()).toBe(before + 1);
  });

  it('a worker killed by pid: requests keep succeeding, and a new worker takes its place', async () => {
    const victim = pids[0] as number;
    process.kill(victim, 'SIGKILL');
    await waitFor(() => { try { process.kill(victim, 0); return undefined; } catch { return true; } }, 10_000);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await get('/after-kill'));
    expect(statuses).toEqual(Array(10).fill(200));
    const restarted = await untilNewWorker();
    expect(pids).not.toContain(restarted);
    pids.push(restarted);
  });

  it('SIGTERM stops the primary and every worker with exit 0', async () => {
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    const alive = pids.filter((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
    expect(alive).toEqual([]);
  });
});

async function waitForWorkers(path: string, n: number): Promise<Set<number>> {
  for (let i = 0; i < 50; i++) {
    const seen = workersOf(await flows(), path);
    if (seen.size >= n) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  return workersOf(await flows(), path);
}

/** Sends requests until a worker that was not there at the start has served one (the restarted one). */
async function untilNewWorker(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    expect(await get('/new-worker')).toBe(200);
    const fresh = [...workersOf(await flows(), '/new-worker')].find((w) => !pids.includes(w));
    if (fresh !== undefined) return fresh;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no new worker served a request: ${out}`);
}
