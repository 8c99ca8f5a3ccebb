import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportHar } from '../../src/cli/log.js';
import { until } from '../helpers/admin.js';
import { curl } from '../helpers/curl.js';
import { freePort } from '../helpers/ports.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';

const MAIN = join(import.meta.dirname, '../../src/main.ts');
/** tsx by absolute URL: the CLI runs in a temp folder (no portico.yaml, no rules) where `tsx` does not resolve. */
const TSX = import.meta.resolve('tsx');
let origin: Origin;
let dir: string;

beforeAll(async () => {
  origin = await startHttpOrigin();
  dir = mkdtempSync(join(tmpdir(), 'portico-cli-log-'));
});
afterAll(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The real CLI (through tsx, no build needed); resolves once both the proxy and the admin endpoint listen. */
function spawnPortico(args: string[]) {
  const proc = spawn(process.execPath, ['--import', TSX, MAIN, 'forward', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ready = new Promise<{ proxy: string; admin: string }>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const p = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const a = /admin on (http:\/\/\S+)/.exec(out)?.[1];
      if (p && a) resolve({ proxy: p, admin: a });
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  ready.catch(() => undefined); // a test that expects an early exit never awaits it
  return { proc, ready, out: () => out };
}

describe('portico forward with --admin and --log-format squid', () => {
  it('logs squid lines to stdout (flushed on SIGTERM), serves metrics and exports HAR', async () => {
    const p = spawnPortico([
      '--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8', '--no-cache', '--rules', 'none',
      '--log-format', 'squid', '--access-log', '-', '--admin', '127.0.0.1:0', '--admin-token', 'tok', '--log-headers',
    ]);
    const { proxy, admin } = await p.ready;
    for (let i = 0; i < 3; i++) expect((await curl(['-x', proxy, `${origin.url}/echo?i=${i}`])).status).toBe(200);
    // The child counts a flow when its event reaches the metrics, after curl has the response: poll until it has
    // counted 3 (one read 100 ms later can miss the last one while the child is short of CPU), then check it is exactly 3.
    const requests = /^portico_requests_total\{mode="forward",status_class="2xx",cache="none",policy="[a-z]+"\} (\d+)$/m;
    const readMetrics = async (): Promise<string> => (await fetch(`${admin}/metrics`, { headers: { authorization: 'Bearer tok' } })).text();
    const metrics = await until(readMetrics, (text) => Number(requests.exec(text)?.[1] ?? 0) >= 3);
    expect(metrics).toMatch(/^portico_requests_total\{mode="forward",status_class="2xx",cache="none",policy="[a-z]+"\} 3$/m);
    const file = join(dir, 'flows.har');
    expect(await exportHar({ har: file, connect: admin, token: 'tok' })).toBe(3);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ log: { version: '1.2' } });
    await expect(exportHar({ har: file, connect: admin })).rejects.toThrow(/401/);
    p.proc.kill('SIGTERM');
    const [code] = (await once(p.proc, 'exit')) as [number];
    expect(code).toBe(0);
    const lines = p.out().split('\n').filter((l) => / TCP_MISS\/200 /.test(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d+\.\d{3} +\d+ 127\.0\.0\.1 TCP_MISS\/200 \d+ GET http:\/\/127\.0\.0\.1:\d+\/echo\?i=0 - HIER_DIRECT\/127\.0\.0\.1 application\/json$/);
  });
});

describe('portico forward with a taken admin port', () => {
  it('exits 1 naming the admin endpoint instead of running half-started', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = spawnPortico(['--listen', '127.0.0.1:0', '--rules', 'none', '--admin', `127.0.0.1:${port}`]);
      const [code] = (await once(p.proc, 'exit')) as [number];
      expect(code).toBe(1);
      expect(await p.ready.then(() => '', (e: Error) => e.message)).toMatch(/admin endpoint on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});

describe('portico forward with a Redis Sentinel store nobody answers', () => {
  it('keeps stdout to JSON lines: the Sentinel client\'s console output goes to the process log', async () => {
    const port = await freePort(); // nothing listens there
    const p = spawnPortico(['--listen', '127.0.0.1:0', '--rules', 'none', '--admin', '127.0.0.1:0',
      '--cache', `redis+sentinel://127.0.0.1:${port}/nobody`, '--log-level', 'warn']);
    await p.ready;
    // @redis/client console.logs "None of the sentinels are available" with its stack about once a second.
    const lines = await until(async () => p.out().split('\n').filter((l) => l.startsWith('{')),
      (ls) => ls.some((l) => l.includes('None of the sentinels are available')), 15_000);
    p.proc.kill('SIGTERM');
    await once(p.proc, 'exit');
    const other = p.out().split('\n').filter((l) => l !== '' && !l.startsWith('{') && !/^portico (forward listening|admin) on /.test(l));
    expect(other).toEqual([]); // no raw stack trace lines on stdout
    const line = JSON.parse(lines.find((l) => l.includes('None of the sentinels'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, msg: 'a library wrote to the console' });
  }, 30_000);
});
