import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const cleanup: Array<() => void> = [];
afterEach(() => { for (const c of cleanup.splice(0)) c(); });

function start(args: string[]): Promise<{ url: string; pid: number; kill: () => void; exit: Promise<unknown[]> }> {
  const proc = spawn(process.execPath, [MAIN, 'demo-backend', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = (): void => { if (proc.exitCode === null) proc.kill('SIGKILL'); };
  cleanup.push(kill);
  const exit = once(proc, 'exit');
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^portico demo-backend listening on (http:\/\/\S+)$/m.exec(out);
      if (m) resolve({ url: m[1] as string, pid: proc.pid as number, kill, exit });
    });
    proc.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${out}`)));
  });
}

describe('portico demo-backend (CLI)', () => {
  it('prints its ready line, echoes id and headers, fails, slows, caches and goes unhealthy on request', async () => {
    const b = await start(['--listen', '127.0.0.1:0', '--id', 'alpha']);
    const echo = await fetch(`${b.url}/x?y=1`, { headers: { 'X-Request-Id': 'r-42', 'X-Custom': 'v' } });
    expect(echo.status).toBe(200);
    expect(echo.headers.get('x-backend-id')).toBe('alpha');
    expect(echo.headers.get('x-request-id')).toBe('r-42');
    expect(await echo.json()).toMatchObject({ backend: 'alpha', url: '/x?y=1', requestId: 'r-42', headers: { 'x-custom': 'v' } });
    expect((await fetch(`${b.url}/fail?status=502`)).status).toBe(502);
    expect((await fetch(`${b.url}/cacheable?max-age=5`)).headers.get('cache-control')).toBe('public, max-age=5');
    const t0 = Date.now();
    expect((await fetch(`${b.url}/slow?ms=200`)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${b.url}/_demo/health?state=down`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(503);
    expect((await fetch(`${b.url}/_demo/health?state=up`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
  });

  it('stops with exit 0 on SIGTERM and refuses a bad --listen with exit 2', async () => {
    const b = await start(['--listen', '127.0.0.1:0', '--id', 'beta']);
    const proc = spawn(process.execPath, [MAIN, 'demo-backend', '--listen', 'nowhere'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const [bad] = await once(proc, 'exit');
    expect(bad).toBe(2);
    expect(err).toMatch(/--listen: expected HOST:PORT/);
    process.kill(b.pid, 'SIGTERM');
    const [code] = await b.exit;
    expect(code).toBe(0);
  });
});
