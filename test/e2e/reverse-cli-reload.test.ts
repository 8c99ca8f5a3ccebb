import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rename, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/proxy.js';
import { startBackend, type TestBackend } from '../helpers/reverse.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

interface Cli { proc: ChildProcess; out: () => string; url: string; admin: string }

async function startCli(config: string): Promise<Cli> {
  const proc = spawn(process.execPath, [MAIN, 'reverse', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.push(async () => { if (proc.exitCode === null) { proc.kill('SIGKILL'); await once(proc, 'exit'); } });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  await waitFor(() => /portico admin on \S+/.test(out) || proc.exitCode !== null, 10_000);
  const url = /portico reverse listening on (\S+)/.exec(out)?.[1];
  const admin = /portico admin on (\S+)/.exec(out)?.[1];
  if (url === undefined || admin === undefined) throw new Error(`CLI did not start: ${out}`);
  return { proc, out: () => out, url, admin };
}

const yaml = (backends: TestBackend[]): string => `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
log: { accessLog: [] }
pools:
  web:
    backends: [${backends.map((b) => b.address).join(', ')}]
    health: { path: /healthz, intervalMs: 100, timeoutMs: 500, rise: 2, fall: 2 }
`;

async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await fn()); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > end) throw new Error(`timed out: ${fn.toString()}`);
  }
}

interface Snapshot { pools: Array<{ name: string; backends: Array<{ id: string; state: string; reason: string; ejections: number }> }> }
async function upstreams(admin: string): Promise<Snapshot> {
  return (await fetch(`${admin}/upstreams`)).json() as Promise<Snapshot>;
}
const stateOf = (s: Snapshot, id: string): string | undefined => s.pools[0]?.backends.find((b) => b.id === id)?.state;

describe('portico reverse --config: reloads under load (CLI)', () => {
  it('SIGHUP and a file change both apply a new lb.yaml with zero failed requests, keeping the health of unchanged backends; /upstreams shows it', async () => {
    const bs = await Promise.all(['b1', 'b2', 'b3', 'b4'].map((n) => startBackend(n)));
    for (const b of bs) cleanup.push(() => b.close());
    const [b1, b2, b3, b4] = bs as [TestBackend, TestBackend, TestBackend, TestBackend];
    b3.health = 500; // b3 fails its checks from the start
    const dir = await mkdtemp(join(tmpdir(), 'portico-reload-'));
    // lb.yaml is a symlink into another folder (as mounted configs often are): editing its target in place is
    // invisible to the watcher of lb.yaml's folder, so the first reload below can only be SIGHUP's.
    await mkdir(join(dir, 'real'));
    const target = join(dir, 'real', 'lb.yaml');
    await writeFile(target, yaml([b1, b2, b3]));
    const file = join(dir, 'lb.yaml');
    await symlink(target, file);
    const cli = await startCli(file);

    // /upstreams while running: the pool, its backends and their health (b3 down by its checks, with the reason).
    await until(async () => stateOf(await upstreams(cli.admin), b3.address) === 'down', 10_000);
    const before = await upstreams(cli.admin);
    expect(before.pools[0]?.name).toBe('web');
    expect(before.pools[0]?.backends.map((b) => [b.id, b.state])).toEqual([[b1.address, 'up'], [b2.address, 'up'], [b3.address, 'down']]);
    expect(before.pools[0]?.backends[2]?.reason).toMatch(/consecutive failed checks \(HTTP 500/);
    expect(before.pools[0]?.backends.map((b) => b.ejections)).toEqual([0, 0, 0]);

    let running = true;
    const statuses: number[] = [];
    const worker = async (): Promise<void> => {
      while (running) {
        const res = await fetch(`${cli.url}/`).catch(() => undefined);
        statuses.push(res?.status ?? 0);
        await res?.text();
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    await waitFor(() => statuses.length >= 20, 10_000);

    // 1. SIGHUP: b4 joins; b3 stays down (a pool rebuilt from scratch would start it up, and it would get traffic).
    const hits3 = b3.hits;
    await writeFile(target, yaml([b1, b2, b3, b4]));
    await new Promise((r) => setTimeout(r, 600)); // longer than the watcher's debounce: nothing reloads by itself
    expect(b4.hits).toBe(0);
    cli.proc.kill('SIGHUP');
    await waitFor(() => b4.hits >= 5, 10_000);
    expect(stateOf(await upstreams(cli.admin), b3.address)).toBe('down');
    expect(b3.hits).toBe(hits3);

    // 2. A file change alone (an editor's atomic save: a new file renamed over lb.yaml): b1 leaves.
    await writeFile(join(dir, '.lb.yaml.tmp'), yaml([b2, b3, b4]));
    await rename(join(dir, '.lb.yaml.tmp'), file);
    await until(async () => (await upstreams(cli.admin)).pools[0]?.backends.length === 3, 10_000);
    const hits1 = b1.hits;
    const n = statuses.length;
    await waitFor(() => statuses.length >= n + 40, 10_000);
    expect(b1.hits).toBe(hits1);
    const after = await upstreams(cli.admin);
    expect(after.pools[0]?.backends.map((b) => [b.id, b.state])).toEqual([[b2.address, 'up'], [b3.address, 'down'], [b4.address, 'up']]);

    running = false;
    await Promise.all(workers);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(b3.hits).toBe(0);
    cli.proc.kill('SIGTERM');
    const [code] = await once(cli.proc, 'exit');
    expect(code).toBe(0);
  });

  it('SIGHUP adds and removes a listener; a port in use is reported and the previous config stays in force', async () => {
    const [b1, b2] = await Promise.all([startBackend('b1'), startBackend('b2')]) as [TestBackend, TestBackend];
    cleanup.push(() => b1.close(), () => b2.close());
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    cleanup.push(() => new Promise((r) => { squatter.close(() => r()); }));
    const taken = (squatter.address() as AddressInfo).port;
    const spare = createServer().listen(0, '127.0.0.1');
    await once(spare, 'listening');
    const free = (spare.address() as AddressInfo).port;
    await new Promise((r) => spare.close(r));
    const dir = await mkdtemp(join(tmpdir(), 'portico-reload-listen-'));
    const file = join(dir, 'lb.yaml');
    const lb = (listen: string[], b: TestBackend): string => `listen: [${listen.join(', ')}]\nadmin: { listen: 127.0.0.1:0 }\nlog: { accessLog: [] }\n`
      + `pools: { web: { backends: [${b.address}] } }\n`;
    await writeFile(file, lb(['127.0.0.1:0'], b1));
    const cli = await startCli(file);
    const body = async (url: string): Promise<string> => fetch(url).then(async (r) => r.text(), (e: Error) => (e.cause as { code?: string })?.code ?? e.message);
    const failedReloads = async (): Promise<number> =>
      Number(/portico_config_reloads_total\{result="error"\} (\d+)/.exec(await (await fetch(`${cli.admin}/metrics`)).text())?.[1] ?? 0);

    await writeFile(file, lb(['127.0.0.1:0', `127.0.0.1:${taken}`], b2));
    cli.proc.kill('SIGHUP');
    await until(async () => (await failedReloads()) >= 1, 10_000);
    expect(await body(`${cli.url}/`)).toBe('b1 /'); // the old pool: nothing of the refused config applies

    await writeFile(file, lb(['127.0.0.1:0', `127.0.0.1:${free}`], b2));
    cli.proc.kill('SIGHUP');
    await until(async () => (await body(`http://127.0.0.1:${free}/`)) === 'b2 /', 10_000);
    expect(await body(`${cli.url}/`)).toBe('b2 /');

    await writeFile(file, lb(['127.0.0.1:0'], b2));
    cli.proc.kill('SIGHUP');
    await until(async () => (await body(`http://127.0.0.1:${free}/`)) === 'ECONNREFUSED', 10_000);
    expect(await body(`${cli.url}/`)).toBe('b2 /');
    expect(cli.proc.exitCode).toBe(null);
    cli.proc.kill('SIGTERM');
    const [code] = await once(cli.proc, 'exit');
    expect(code).toBe(0);
    // The log (flushed at exit) names the address and the cause.
    expect(cli.out()).toMatch(new RegExp(`"error":"cannot listen on http://127\\.0\\.0\\.1:${taken}: listen EADDRINUSE[^"]*","msg":"configuration reload failed; the previous one stays in force"`));
    expect(cli.out()).toContain(`"listener":"http://127.0.0.1:${free}","msg":"listening (reload)"`);
  });
});
