import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { freePort } from '../helpers/ports.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const SESSION = `portico-tui-${process.pid}`;
const REMOTE = `portico-tui-remote-${process.pid}`;

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    console.error('tui-tmux e2e skipped: tmux is not installed (apt-get install -y tmux; .ci/run does it)');
    return false;
  }
}

function tmux(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', args, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

const screen = (session = SESSION): Promise<string> => tmux('capture-pane', '-p', '-t', session);

/**
 * How long a fresh `node dist/main.js` may take to show its first screen or ready line. It costs ~0.9 s of CPU to
 * start; with both cores busy one start-up took 7.5 s here, past the 10 s these waits had once the screen's own
 * start is added. Waits for what happens after start-up keep 10 s.
 */
const START_MS = 25_000;

async function waitScreen(test: (s: string) => boolean, what: string, timeoutMs = 10_000, session = SESSION): Promise<string> {
  let last = '';
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) {
    last = await screen(session).catch(() => last);
    if (test(last)) return last;
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

describe.skipIf(!hasTmux())('portico forward --tui in a real terminal (tmux)', () => {
  let origin: Origin;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    origin = await startHttpOrigin();
    dir = await mkdtemp(join(tmpdir(), 'portico-tui-e2e-'));
    port = await freePort();
    const cmd = `node ${MAIN} forward --tui --listen 127.0.0.1:${port} --allow-target 127.0.0.0/8 --log-headers`;
    await tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '40', '-c', dir, cmd);
    await waitScreen((s) => s.includes('portico · forward'), 'the header bar', START_MS);
  }, 2 * START_MS);

  afterAll(async () => {
    await tmux('kill-session', '-t', SESSION).catch(() => undefined);
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows flows made through it, filters, opens details, writes a curl script and quits on q', async () => {
    const proxy = `http://127.0.0.1:${port}`;
    expect((await curl(['-x', proxy, `${origin.url}/status/404`])).status).toBe(404);
    expect((await curl(['-x', proxy, `${origin.url}/echo`])).status).toBe(200);
    let s = await waitScreen((x) => /GET\s+127\.0\.0\.1:\d+\/status\/404\s+404/.test(x) && x.includes('/echo'), 'both flows');
    expect(s).toContain('flows 2/2');
    expect(s).not.toContain('"level"'); // logs went to portico.log, not over the screen

    await tmux('send-keys', '-t', SESSION, '/');
    await tmux('send-keys', '-t', SESSION, '-l', '~c 4xx');
    await tmux('send-keys', '-t', SESSION, 'Enter');
    s = await waitScreen((x) => x.includes('flows 1/2'), 'the filtered count');
    expect(s).toContain('filter: ~c 4xx');
    expect(s).not.toContain('/echo');

    await tmux('send-keys', '-t', SESSION, 'Enter');
    s = await waitScreen((x) => x.includes('→  404'), 'the detail view');
    expect(s).toContain(`GET ${origin.url}/status/404  →  404`);
    expect(s).toContain('request headers:');

    await tmux('send-keys', '-t', SESSION, 'x');
    s = await waitScreen((x) => x.includes('curl command written to'), 'the curl message');
    const script = (await readdir(dir)).find((f) => /^portico-flow-.+\.sh$/.test(f));
    expect(script).toBeDefined();
    expect(await readFile(join(dir, script ?? ''), 'utf8')).toContain(`curl --proxy ${proxy} `);

    await tmux('send-keys', '-t', SESSION, 'q');
    for (let i = 0; i < 50 && (await tmux('has-session', '-t', SESSION).then(() => true, () => false)); i++) await sleep(100);
    expect(await tmux('has-session', '-t', SESSION).then(() => true, () => false)).toBe(false);
    const log = await readFile(join(dir, 'portico.log'), 'utf8');
    expect(log).toContain('/status/404');
    expect(log).toContain('TUI closed, shutting down');
  });
});

describe.skipIf(!hasTmux())('portico tui --connect to a running instance\'s admin endpoint (tmux)', () => {
  let origin: Origin;
  let proxy: ChildProcess;
  let proxyPort: number;
  let adminPort: number;

  beforeAll(async () => {
    origin = await startHttpOrigin();
    [proxyPort, adminPort] = [await freePort(), await freePort()];
    proxy = spawn('node', [MAIN, 'forward', '--listen', `127.0.0.1:${proxyPort}`, '--allow-target', '127.0.0.0/8',
      '--admin', `127.0.0.1:${adminPort}`, '--admin-token', 'S3CRET', '--access-log', '-', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proxy.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
    for (const end = Date.now() + START_MS; Date.now() < end && !out.includes('portico admin on');) await sleep(100);
    expect(out).toContain('portico admin on');
  }, 2 * START_MS);

  afterAll(async () => {
    await tmux('kill-session', '-t', REMOTE).catch(() => undefined);
    proxy.kill('SIGTERM');
    await origin.close();
  });

  it('backfills recent flows, streams new ones with the token, shows the backends empty state', { timeout: 2 * START_MS }, async () => {
    const via = `http://127.0.0.1:${proxyPort}`;
    expect((await curl(['-x', via, `${origin.url}/status/201`])).status).toBe(201);
    const cmd = `node ${MAIN} tui --connect http://127.0.0.1:${adminPort} --token S3CRET --proxy ${via}`;
    await tmux('new-session', '-d', '-s', REMOTE, '-x', '120', '-y', '40', cmd);
    let s = await waitScreen((x) => x.includes('/status/201') && x.includes('(live)'), 'the backfilled flow', START_MS, REMOTE);
    expect(s).toContain(`portico · http://127.0.0.1:${adminPort} (live)`);
    expect((await curl(['-x', via, `${origin.url}/status/503`])).status).toBe(503);
    s = await waitScreen((x) => /\/status\/503\s+503/.test(x), 'the live flow', 10_000, REMOTE);
    expect(s).toContain('flows 2/2');
    await tmux('send-keys', '-t', REMOTE, 'b');
    await waitScreen((x) => x.includes('no backend pools'), 'the backends empty state', 5_000, REMOTE);
    await tmux('send-keys', '-t', REMOTE, 'q');
    for (let i = 0; i < 50 && (await tmux('has-session', '-t', REMOTE).then(() => true, () => false)); i++) await sleep(100);
    expect(await tmux('has-session', '-t', REMOTE).then(() => true, () => false)).toBe(false);
  });
});

describe.skipIf(!hasTmux())('portico forward --tui when its terminal goes away', () => {
  it('stops (SIGHUP) instead of running on without a screen', { timeout: 2 * START_MS }, async () => {
    const session = `portico-tui-hup-${process.pid}`;
    const dir = await mkdtemp(join(tmpdir(), 'portico-tui-hup-'));
    const port = await freePort();
    try {
      await tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-c', dir,
        `node ${MAIN} forward --tui --listen 127.0.0.1:${port}`);
      await waitScreen((s) => s.includes('portico · forward'), 'the header bar', START_MS, session);
      expect(await listening(port)).toBe(true);
      await tmux('kill-session', '-t', session);
      for (const end = Date.now() + 10_000; Date.now() < end && (await listening(port)); ) await sleep(100);
      expect(await listening(port)).toBe(false);
    } finally {
      await tmux('kill-session', '-t', session).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

describe('the TUI without a terminal', () => {
  function run(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn('node', [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
      child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
      child.on('exit', (code) => resolve({ code, stderr, stdout }));
    });
  }

  // Two CLI start-ups: 8 s with both cores busy.
  it('refuses at once with a clear message instead of hanging or writing to a pipe', { timeout: 60_000 }, async () => {
    const fwd = await run(['forward', '--tui', '--listen', '127.0.0.1:0']);
    expect(fwd.code).toBe(1);
    expect(fwd.stderr).toContain('the TUI needs a terminal');
    expect(fwd.stdout).toBe('');
    const remote = await run(['tui', '--connect', 'ftp://127.0.0.1:9090']);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toContain('--connect wants an http(s) URL');
  });
});
