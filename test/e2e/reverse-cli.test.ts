import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../helpers/reverse.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

function run(args: string[]): { proc: ReturnType<typeof spawn>; out: () => string; ready: Promise<string> } {
  const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /portico reverse listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${out}`)));
  });
  return { proc, out: () => out, ready };
}

describe('portico reverse (CLI)', () => {
  it('prints the ready line, balances over --backend flags, and drains on SIGTERM (exit 0)', async () => {
    const bs: TestBackend[] = await Promise.all(['b1', 'b2'].map((n) => startBackend(n, (_req, res) => setTimeout(() => res.end(n), 150))));
    for (const b of bs) cleanup.push(() => b.close());
    const p = run(['reverse', '--listen', '127.0.0.1:0', ...bs.flatMap((b) => ['--backend', b.address]), '--expose-backend']);
    cleanup.push(async () => { p.proc.kill('SIGKILL'); });
    const url = await p.ready;
    const slow = fetch(`${url}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    p.proc.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(['b1', 'b2']).toContain(await res.text());
    const [code] = await once(p.proc, 'exit');
    expect(code).toBe(0);
    expect(p.out()).toContain('"mode":"reverse"');
  });

  it('refuses a bad --balance with exit 2 naming the choices', async () => {
    const p = spawn(process.execPath, [MAIN, 'reverse', '--backend', '127.0.0.1:1', '--balance', 'fastest'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    const [code] = await once(p, 'exit');
    expect(code).toBe(2);
    expect(err).toMatch(/pools\.default\.balance: balance "fastest": expected one of round-robin/);
  });

  it('route test explains the route, pool, backend and why', async () => {
    const p = spawn(process.execPath, [MAIN, 'route', 'test', 'http://app.example/x', '--backend', '127.0.0.1:9001',
      '--backend', '127.0.0.1:9002', '--balance', 'hash-ip', '--client', '192.0.2.7'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    const [code] = await once(p, 'exit');
    expect(code).toBe(0);
    expect(out).toMatch(/^route: +default\npool: +default\npath: +\/x\nbackend: +127\.0\.0\.1:900[12]\nwhy: +route default: matches everything; ring-hash: .* \(hash key "192\.0\.2\.7"\)/);
  });
});
