import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const SESSION = `portico-tui-${process.pid}`;

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

const screen = (): Promise<string> => tmux('capture-pane', '-p', '-t', SESSION);

async function waitScreen(test: (s: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
  let last = '';
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) {
    last = await screen().catch(() => last);
    if (test(last)) return last;
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
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
    await waitScreen((s) => s.includes('portico · forward'), 'the header bar');
  });

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
