import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request, type ClientRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/core/flow.js';
import { startDemoBackend, type DemoBackend } from '../../src/demo/backend.js';
import { waitFor } from '../helpers/proxy.js';
import { metric, until } from '../helpers/admin.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const backends: DemoBackend[] = [];
let proc: ChildProcess | undefined;
let dir: string | undefined;
afterAll(async () => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  for (const b of backends) await b.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function get(url: URL): Promise<{ status: number; backend: string }> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: '/w', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, backend: (JSON.parse(body) as { backend: string }).backend }));
    });
    req.once('error', () => resolve({ status: 0, backend: '' }));
    req.end();
  });
}

/** A request the backend holds for `ms` (demo /slow), so it stays in flight until the test destroys it. */
function hold(url: URL, ms: number): ClientRequest {
  const req = request({ host: url.hostname, port: url.port, path: `/slow?ms=${ms}`, agent: false });
  req.once('error', () => undefined); // destroyed by the test
  req.end();
  return req;
}

interface PoolView { name: string; workers: number; backends: Array<{ id: string; state: string; states: Record<string, number>; active: number }> }

describe('reverse --workers 2', () => {
  it('both workers balance over the pool; flows, in-flight gauge and pool state from both reach the one admin endpoint; SIGTERM exits 0', async () => {
    for (const id of ['r1', 'r2']) backends.push(await startDemoBackend({ id, host: '127.0.0.1', port: 0 }));
    dir = await mkdtemp(join(tmpdir(), 'portico-workers-'));
    const file = join(dir, 'lb.yaml');
    await writeFile(file, `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\npools:\n  app: { backends: [${backends.map((b) => b.address).join(', ')}] }\n`);
    proc = spawn(process.execPath, [MAIN, 'reverse', '--config', file, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    await waitFor(() => /^portico admin on /m.test(out) || undefined, 20_000);
    const url = new URL(/^portico reverse listening on (\S+)$/m.exec(out)?.[1] ?? '');
    const admin = /^portico admin on (\S+)$/m.exec(out)?.[1] ?? '';
    const results = await Promise.all(Array.from({ length: 20 }, () => get(url)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.backend))).toEqual(new Set(['r1', 'r2']));
    let seen = new Set<number | undefined>();
    for (let i = 0; i < 50 && seen.size < 2; i++) {
      const flows = (await (await fetch(`${admin}/flows`)).json()) as FlowRecord[];
      seen = new Set(flows.filter((f) => f.mode === 'reverse').map((f) => f.notes.worker));
      if (seen.size < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.size).toBe(2);

    // The primary's admin endpoint sums the workers' in-flight gauges and lists the pool once (GET /upstreams).
    const held = Array.from({ length: 4 }, () => hold(url, 30_000));
    expect(await until(() => metric(admin, 'portico_inflight_requests'), (n) => n === 4)).toBe(4);
    const pools = async (): Promise<PoolView[]> => ((await (await fetch(`${admin}/upstreams`)).json()) as { pools: PoolView[] }).pools;
    const sumActive = (ps: PoolView[]): number => ps.flatMap((p) => p.backends).reduce((n, b) => n + b.active, 0);
    const view = await until(pools, (ps) => sumActive(ps) === 4);
    expect(view.map((p) => p.name)).toEqual(['app']);
    expect(view[0]?.workers).toBe(2);
    expect(view[0]?.backends.map((b) => b.id).sort()).toEqual(backends.map((b) => b.address).sort());
    expect(view[0]?.backends.map((b) => [b.state, b.states])).toEqual([['up', { up: 2 }], ['up', { up: 2 }]]);
    expect(sumActive(view)).toBe(4);
    for (const r of held) r.destroy();
    expect(await until(() => metric(admin, 'portico_inflight_requests'), (n) => n === 0)).toBe(0);
    expect(sumActive(await until(pools, (ps) => sumActive(ps) === 0))).toBe(0);

    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});
