import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/core/flow.js';
import { curl } from '../helpers/curl.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const procs: ChildProcess[] = [];
let dir: string;

/** Starts `node dist/main.js ARGS` and resolves with its stdout once every pattern has matched. */
async function start(args: string[], ready: RegExp): Promise<{ proc: ChildProcess; out: () => string }> {
  const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`portico ${args[0]} exited ${String(code)}: ${out}${err}`)));
  });
  return { proc, out: () => out };
}

const match = (text: string, re: RegExp): string => {
  const m = re.exec(text);
  if (!m?.[1]) throw new Error(`no ${String(re)} in: ${text}`);
  return m[1];
};

let forward: string;
let admin: string;
let external: ChildProcess;
let chainOut: () => string;
let chainProc: ChildProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-chain-e2e-'));
  // One backend is a separate `portico demo-backend` process, so the test can kill it for real (SIGKILL).
  const ext = await start(['demo-backend', '--listen', '127.0.0.1:0', '--id', 'b3'], /listening on http:\/\/\S+\n/);
  external = ext.proc;
  const b3 = match(ext.out(), /listening on http:\/\/(\S+)/);
  const file = join(dir, 'chain.yaml');
  await writeFile(file, [
    'forward:',
    '  listen: 127.0.0.1:0',
    '  cache: { store: memory }',
    '  routes: [{ host: app.portico.test, to: reverse }]',
    'reverse:',
    '  listen: 127.0.0.1:0',
    '  pools:',
    '    app:',
    `      backends: [demo:b1, demo:b2, ${b3}]`,
    '      health: { path: /healthz, intervalMs: 300, timeoutMs: 200, rise: 1, fall: 1 }',
    '  routes: [{ id: app, host: app.portico.test, pool: app }]',
    'demoBackends: [{ id: b1 }, { id: b2 }]',
    'rules:',
    '  rules:',
    '    - { id: chain-admin, action: block, host: app.portico.test, path: [/admin, "/admin/**"] }',
    'log: { level: info }',
    'admin: { listen: 127.0.0.1:0 }',
    '',
  ].join('\n'));
  const chain = await start(['chain', '--config', file], /Try this:[^]*requestId/);
  chainOut = chain.out;
  chainProc = chain.proc;
  forward = match(chain.out(), /^portico forward listening on (http:\/\/\S+)$/m);
  admin = match(chain.out(), /^portico admin on (http:\/\/\S+)$/m);
});

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function flows(): Promise<FlowRecord[]> {
  const res = await fetch(`${admin}/flows?limit=10000`);
  return (await res.json()) as FlowRecord[];
}

const via = (path: string, extra: string[] = []) => curl(['-x', forward, ...extra, `http://app.portico.test${path}`]);

describe('portico chain: client → forward → reverse → 3 demo backends', () => {
  it('prints every component\'s ready line and the try-this paragraph', () => {
    const out = chainOut();
    expect(out.match(/^portico demo-backend listening on http:\/\/127\.0\.0\.1:\d+ \(b[12]\)$/gm)).toHaveLength(2);
    expect(out).toMatch(/^portico reverse listening on http:\/\/127\.0\.0\.1:\d+$/m);
    expect(out).toContain(`curl -x ${forward} http://app.portico.test/hello`);
  });

  it('a blocked URL gets 403 from the forward proxy\'s policy; no backend sees it', async () => {
    const r = await via('/admin/users');
    expect(r.status).toBe(403);
    expect(r.headers).toMatch(/X-Portico-Rule: chain-admin/i);
    const fs = await flows();
    expect(fs.filter((f) => f.url.endsWith('/admin/users')).map((f) => f.mode)).toEqual(['forward']);
  });

  it('one request id is followed through both hops and echoed by the backend', async () => {
    const r = await via('/trace');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { requestId: string; headers: Record<string, string> };
    expect(body.headers['x-request-id']).toBe(body.requestId);
    const hops = (await flows()).filter((f) => f.url.endsWith('/trace'));
    expect(hops.map((f) => f.mode).sort()).toEqual(['forward', 'reverse']);
    for (const f of hops) expect(f.notes.requestId).toBe(body.requestId);
  });

  it('a cacheable URL: the second request is a HIT and no backend sees it', async () => {
    const first = await via('/cacheable?max-age=60');
    const second = await via('/cacheable?max-age=60');
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers).toMatch(/Cache-Status: portico; hit/i);
    expect(second.body).toBe(first.body);
    const fs = (await flows()).filter((f) => f.url.endsWith('/cacheable?max-age=60'));
    expect(fs.filter((f) => f.mode === 'forward').map((f) => f.notes.cache)).toEqual(['miss', 'hit']);
    expect(fs.filter((f) => f.mode === 'reverse')).toHaveLength(1);
  });

  it('a balanced URL is served by all 3 backends', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const r = await via('/balanced');
      expect(r.status).toBe(200);
      seen.add((JSON.parse(r.body) as { backend: string }).backend);
    }
    expect([...seen].sort()).toEqual(['b1', 'b2', 'b3']);
  });

  it('one backend killed (SIGKILL): requests keep succeeding on the other two', async () => {
    external.kill('SIGKILL');
    await once(external, 'exit');
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await via('/after-kill');
      expect(r.status).toBe(200);
      seen.add((JSON.parse(r.body) as { backend: string }).backend);
    }
    expect([...seen].sort()).toEqual(['b1', 'b2']);
  });

  it('stops on SIGTERM with exit 0', async () => {
    const exited = once(chainProc, 'exit');
    chainProc.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
