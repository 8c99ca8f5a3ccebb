import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPasswordScrypt } from '../../src/stages/htpasswd.js';
import { waitFor } from '../helpers/proxy.js';
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
    // SIGTERM once the request is in flight at a backend (which answers 150 ms later), not after a fixed 50 ms: on a
    // busy machine the child had not read it yet, and a request it never accepted is rightly not drained (ECONNRESET).
    await waitFor(() => bs.some((b) => b.hits > 0) || undefined);
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

  it('route test hashes on the client a trusted proxy names, as the server does', async () => {
    const run = async (extra: string[]): Promise<string> => {
      const p = spawn(process.execPath, [MAIN, 'route', 'test', 'http://app.example/x', '--backend', '127.0.0.1:9001', '--backend', '127.0.0.1:9002',
        '--balance', 'hash-ip', '--client', '192.0.2.7', '--header', 'X-Forwarded-For: 198.51.100.9', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
      const [code] = await once(p, 'exit');
      expect(code).toBe(0);
      return out;
    };
    expect(await run(['--trusted-proxy', '192.0.2.0/24'])).toMatch(/\(hash key "198\.51\.100\.9"\)/);
    expect(await run([])).toMatch(/\(hash key "192\.0\.2\.7"\)/); // an untrusted peer's X-Forwarded-For is not believed
  });

  // Four CLI processes, three of them checking a scrypt password, after a scrypt hash here: 4 s at load 5, but 25 s
  // with both cores busy (each node start-up alone took ~4 s then), too close to the 30 s default.
  it('route test shows the route\'s stages: rate limit and its bucket (client behind a trusted proxy), auth and whether it admits, policy, cache', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-route-test-'));
    await writeFile(join(dir, 'users'), `alice:${await hashPasswordScrypt('wonderland')}\n`);
    await mkdir(join(dir, 'rules'));
    await writeFile(join(dir, 'rules', 'p.yaml'), 'rules:\n  - id: no-admin\n    action: block\n    path: /admin/**\n');
    await writeFile(join(dir, 'lb.yaml'), `trustedProxies: [10.0.0.0/8]
pools: { web: { backends: [127.0.0.1:9001] } }
routes:
  - { id: api, path: /api, stripPrefix: true, pool: web,
      rateLimit: { ratePerSecond: 5, burst: 10, store: "redis://u:hunter2@127.0.0.1:6379" },
      auth: { type: basic, htpasswd: ${join(dir, 'users')}, realm: staff },
      policy: ${join(dir, 'rules')}, cache: { store: memory, defaultTtlCapMs: 60000 } }
  - { id: open, pool: web }
`);
    const routeTest = async (url: string, ...args: string[]): Promise<[number, string]> => {
      const p = spawn(process.execPath, [MAIN, 'route', 'test', url, '--config', join(dir, 'lb.yaml'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
      p.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
      const [code] = await once(p, 'exit');
      return [code as number, out];
    };
    const basic = `Authorization: Basic ${Buffer.from('alice:wonderland').toString('base64')}`;
    const [code, ok] = await routeTest('http://app.example/api/admin/x', '--client', '10.1.2.3', '--header', 'X-Forwarded-For: 198.51.100.9, 203.0.113.5', '--header', basic);
    expect(code).toBe(0);
    expect(ok).toContain('\nrate:    5/s burst 10 per client IP, shared in redis://u:***@127.0.0.1:6379 (Redis down: allow); bucket "ip:203.0.113.5" (client 203.0.113.5 named by trusted proxy 10.1.2.3)\n');
    expect(ok).not.toContain('hunter2');
    expect(ok).toMatch(/\nauth: +basic realm="staff", users from \S+users, Authorization removed before the backend\n +→ the Authorization given: admitted as alice\n/);
    expect(ok).toMatch(/\npolicy: +rules \S+rules \(default allow\): block by rule no-admin \(\S+p\.yaml:2\): path matches \/admin\/\*\*\n/);
    expect(ok).toMatch(/\ncache: +memory, objects up to 8388608 bytes, .*every freshness capped at 60000 ms/);
    // An untrusted client's X-Forwarded-For is ignored; a wrong password is refused, with the reason.
    const [, refused] = await routeTest('http://app.example/api/x', '--client', '192.0.2.7', '--header', 'X-Forwarded-For: 203.0.113.5',
      '--header', `Authorization: Basic ${Buffer.from('alice:nope').toString('base64')}`, '--method', 'post');
    expect(refused).toContain('bucket "ip:192.0.2.7"\n');
    expect(refused).toContain('→ the Authorization given: refused, 401 (wrong user name or password)');
    expect(refused).toContain('a POST is not served from it');
    const [, none] = await routeTest('http://app.example/api/x');
    expect(none).toContain('→ no Authorization: refused, 401 (credentials required)');
    const [, open] = await routeTest('http://app.example/other');
    expect(open).toMatch(/\nrate: +none\nauth: +none\npolicy: +none\ncache: +off\n/);
  });
});
