import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/core/flow.js';
import { startDemoBackend, type DemoBackend } from '../../src/demo/backend.js';
import { waitFor } from '../helpers/proxy.js';

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

describe('l4 --workers 2', () => {
  it('both workers balance TCP connections over the pool; their flows reach the one admin endpoint', async () => {
    for (const id of ['t1', 't2']) backends.push(await startDemoBackend({ id, host: '127.0.0.1', port: 0 }));
    proc = spawn(process.execPath, [MAIN, 'l4', '--listen', '127.0.0.1:0', '--workers', '2', '--admin', '127.0.0.1:0',
      ...backends.flatMap((b) => ['--backend', b.address])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    await waitFor(() => /^portico admin on /m.test(out) || undefined, 20_000);
    const url = new URL(/^portico l4 listening on (\S+)$/m.exec(out)?.[1]?.replace(/^tcp:/, 'http:') ?? '');
    const admin = /^portico admin on (\S+)$/m.exec(out)?.[1] ?? '';
    const results = await Promise.all(Array.from({ length: 20 }, () => get(url)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.backend))).toEqual(new Set(['t1', 't2']));
    let seen = new Set<number | undefined>();
    for (let i = 0; i < 50 && seen.size < 2; i++) {
      const flows = (await (await fetch(`${admin}/flows`)).json()) as FlowRecord[];
      seen = new Set(flows.filter((f) => f.mode === 'l4').map((f) => f.notes.worker));
      if (seen.size < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.size).toBe(2);
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});
