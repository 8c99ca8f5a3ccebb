import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin } from '../helpers/origin.js';
import { startTestProxy, waitFor } from '../helpers/proxy.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');

function spawnPortico(args: string[], cwd?: string): { proc: ReturnType<typeof spawn>; ready: Promise<string>; out: () => string; err: () => string } {
  const proc = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const ready = new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /portico forward listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  ready.catch(() => undefined); // tests that expect an early exit never await it
  return { proc, ready, out: () => out, err: () => err };
}

describe('graceful shutdown', () => {
  it('lets a request in flight finish, then refuses new connections', async () => {
    let arrived = 0;
    const origin = await startHttpOrigin((_req, res) => { arrived += 1; setTimeout(() => res.end('slow but complete'), 400); });
    const proxy = await startTestProxy();
    try {
      const inFlight = curl(['-x', proxy.url, `${origin.url}/slow`]);
      await waitFor(() => arrived > 0, 10_000); // in flight for sure: the origin holds it (a fixed sleep raced curl's start under load)
      const closing = proxy.close(5000);
      const r = await inFlight;
      expect(r.status).toBe(200);
      expect(r.body).toBe('slow but complete');
      await closing;
      const after = await curl(['-x', proxy.url, `${origin.url}/echo`]);
      expect(after.code).not.toBe(0);
    } finally {
      await origin.close();
    }
  });
});

describe('the portico CLI', () => {
  // Two CLI start-ups (~0.9 s of CPU each): 15 s with both cores busy, half the default timeout.
  it('prints the version and help', { timeout: 60_000 }, async () => {
    const v = spawn(process.execPath, [MAIN, '--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    v.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await once(v, 'exit');
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = spawn(process.execPath, [MAIN, 'forward', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let help = '';
    h.stdout.on('data', (d: Buffer) => { help += d.toString(); });
    await once(h, 'exit');
    for (const flag of ['--listen', '--mitm', '--mitm-bypass', '--connect-ports', '--allow-target', '--allow-client',
      '--upstream-proxy', '--upstream-ca', '--insecure-upstream', '--auth-file', '--certs', '--config']) {
      expect(help).toContain(flag);
    }
  });

  it('starts from a YAML config, prints the ready line, proxies, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-cli-'));
    await writeFile(join(dir, 'portico.yaml'), 'listen: 127.0.0.1:0\ntargets:\n  allow: [127.0.0.0/8]\nlog:\n  level: warn\n');
    const origin = await startHttpOrigin();
    const p = spawnPortico(['forward'], dir);
    try {
      const url = await p.ready;
      const r = await curl(['-x', url, `${origin.url}/echo`]);
      expect(r.status).toBe(200);
      p.proc.kill('SIGTERM');
      const [code] = (await once(p.proc, 'exit')) as [number];
      expect(code).toBe(0);
    } finally {
      p.proc.kill('SIGKILL');
      await origin.close();
    }
  });

  it('rejects a bad config with a message naming the key, exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-cli-'));
    await writeFile(join(dir, 'bad.yaml'), 'listen: 127.0.0.1:0\nupstream:\n  connectTimeoutMs: soon\n');
    const p = spawnPortico(['forward', '--config', join(dir, 'bad.yaml')]);
    const [code] = (await once(p.proc, 'exit')) as [number];
    expect(code).toBe(2);
    expect(p.err()).toContain('upstream.connectTimeoutMs');
    await writeFile(join(dir, 'broken.yaml'), 'listen: [unclosed\n');
    const q = spawnPortico(['forward', '--config', join(dir, 'broken.yaml')]);
    const [code2] = (await once(q.proc, 'exit')) as [number];
    expect(code2).toBe(2);
    expect(q.err()).toMatch(/broken\.yaml:\d+:\d+/);
  });

  it('takes a SIGTERM sent as soon as the ready line is read (handlers are set before it is printed)', async () => {
    for (let i = 0; i < 3; i++) {
      const p = spawnPortico(['forward', '--listen', '127.0.0.1:0', '--log-level', 'warn']);
      await p.ready;
      p.proc.kill('SIGTERM');
      const [code, signal] = (await once(p.proc, 'exit')) as [number | null, string | null];
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    }
  });

  it('exits at once on a second SIGTERM during a drain, also with log lines buffered for a stdout reader that has gone', async () => {
    // An origin that accepts and never answers keeps the exchange in flight, so the first SIGTERM waits (grace 10 s).
    let arrived = 0;
    const silent = net.createServer(() => { arrived += 1; });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as AddressInfo).port;
    const p = spawnPortico(['forward', '--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8', '--log-level', 'info']);
    try {
      const url = await p.ready;
      p.proc.stdout?.destroy(); // the reader goes away; "shutting down" is then buffered for it
      void curl(['-x', url, `http://127.0.0.1:${port}/never`], { timeoutMs: 30_000 });
      await waitFor(() => arrived > 0, 10_000);
      p.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      p.proc.kill('SIGTERM');
      // Before the bounded flushSync, pino's exit hook retried the EPIPE write every 100 ms forever: this never came.
      const [code] = (await once(p.proc, 'exit')) as [number];
      expect(code).toBe(1);
    } finally {
      p.proc.kill('SIGKILL');
      silent.close();
    }
  });

  it('fails clearly when the port is taken', async () => {
    const first = await startTestProxy();
    try {
      const p = spawnPortico(['forward', '--listen', `127.0.0.1:${first.port}`]);
      const [code] = (await once(p.proc, 'exit')) as [number];
      expect(code).toBe(1);
      expect(p.err()).toContain('EADDRINUSE');
    } finally {
      await first.close(100);
    }
  });
});
