import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/core/flow.js';
import { startDemoBackend, type DemoBackend } from '../../src/demo/backend.js';
import { waitFor } from '../helpers/proxy.js';
import { metric, until } from '../helpers/admin.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const backends: DemoBackend[] = [];
let proc: ChildProcess | undefined;
afterAll(async () => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  for (const b of backends) await b.close();
});

/** One HTTP request over a fresh TCP connection through the L4 listener. */
function get(url: URL): Promise<{ status: number; backend: string }> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: '/l4', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, backend: (JSON.parse(body) as { backend: string }).backend }));
    });
    req.once('error', () => resolve({ status: 0, backend: '' }));
    req.end();
  });
}

interface Backend { id: string; state: string; states: Record<string, number>; active: number; connections: number }
interface PoolView { name: string; kind: string; workers: number; backends: Backend[] }

describe('l4 --workers 2', () => {
  it('both workers balance TCP connections over the pool; their flows, open connections and pool state reach the one admin endpoint', async () => {
    for (const id of ['t1', 't2']) backends.push(await startDemoBackend({ id, host: '127.0.0.1', port: 0 }));
    proc = spawn(process.execPath, [MAIN, 'l4', '--listen', '127.0.0.1:0', '--workers', '2', '--admin', '127.0.0.1:0',
      ...backends.flatMap((b) => ['--backend', b.address])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    await waitFor(() => /^portico admin on /m.test(out) || undefined, 20_000);
    const url = new URL(/^portico l4 listening on (\S+)$/m.exec(out)?.[1]?.replace(/^tcp:/, 'http:') ?? '');
    const admin = /^portico admin on (\S+)$/m.exec(out)?.[1] ?? '';
    // Workers accept on the shared socket themselves (SCHED_NONE), so which one takes a connection is the kernel's
    // choice: on a busy machine one worker can take a whole batch. Batches go on until both have served some (or 10).
    const workersSeen = async (): Promise<Set<number | undefined>> => {
      let seen = new Set<number | undefined>();
      for (let i = 0; i < 10 && seen.size < 2; i++) {
        const flows = (await (await fetch(`${admin}/flows`)).json()) as FlowRecord[];
        seen = new Set(flows.filter((f) => f.mode === 'l4').map((f) => f.notes.worker));
        if (seen.size < 2) await new Promise((r) => setTimeout(r, 100));
      }
      return seen;
    };
    let made = 0;
    let seen = new Set<number | undefined>();
    for (let batch = 0; batch < 10 && seen.size < 2; batch++) {
      const results = await Promise.all(Array.from({ length: 20 }, () => get(url)));
      made += results.length;
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(new Set(results.map((r) => r.backend))).toEqual(new Set(['t1', 't2']));
      seen = await workersSeen();
    }
    expect(seen.size).toBe(2);

    // The primary's admin endpoint sums the workers' open connections and lists the pool once (GET /upstreams).
    const open: Socket[] = Array.from({ length: 3 }, () => connect(Number(url.port), url.hostname).on('error', () => undefined));
    expect(await until(() => metric(admin, 'portico_inflight_requests'), (n) => n === 3)).toBe(3);
    const pools = async (): Promise<PoolView[]> => ((await (await fetch(`${admin}/upstreams`)).json()) as { pools: PoolView[] }).pools;
    const sum = (ps: PoolView[], key: 'active' | 'connections'): number => ps.flatMap((p) => p.backends).reduce((n, b) => n + b[key], 0);
    const view = await until(pools, (ps) => sum(ps, 'active') === 3);
    expect(view).toHaveLength(1);
    expect(view[0]).toMatchObject({ kind: 'l4', workers: 2 });
    expect(view[0]?.backends.map((b) => b.id).sort()).toEqual(backends.map((b) => b.address).sort());
    expect(view[0]?.backends.map((b) => [b.state, b.states])).toEqual([['up', { up: 2 }], ['up', { up: 2 }]]);
    expect(sum(view, 'active')).toBe(3);
    expect(sum(view, 'connections')).toBe(made + 3); // the requests above and the 3 held, whichever worker took them
    for (const s of open) s.destroy();
    expect(await until(() => metric(admin, 'portico_inflight_requests'), (n) => n === 0)).toBe(0);

    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});
