import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { freePort } from '../helpers/redis.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const SESSION = `portico-chaintui-${process.pid}`;

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    console.error('chain --tui e2e skipped: tmux is not installed');
    return false;
  }
}

function tmux(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => { execFile('tmux', args, (err, stdout) => (err ? reject(err) : resolve(stdout))); });
}

async function waitScreen(test: (s: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  let last = '';
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) {
    last = await tmux('capture-pane', '-p', '-t', SESSION).catch(() => last);
    if (test(last)) return last;
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

const count = (s: string, needle: string): number => s.split(needle).length - 1;

describe.skipIf(!hasTmux())('portico chain --tui: every hop of one request in one terminal (tmux)', () => {
  let dir: string;
  let forwardPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-chaintui-'));
    forwardPort = await freePort();
    await writeFile(join(dir, 'chain.yaml'), [
      `forward: { listen: 127.0.0.1:${forwardPort}, routes: [{ host: app.portico.test, to: reverse }] }`,
      'reverse:',
      '  listen: 127.0.0.1:0',
      '  pools: { app: { backends: [demo:b1, demo:b2] } }',
      '  routes: [{ id: app, host: app.portico.test, pool: app }]',
      'demoBackends: [{ id: b1 }, { id: b2 }]',
      '',
    ].join('\n'));
    await tmux('new-session', '-d', '-s', SESSION, '-x', '160', '-y', '40', '-c', dir, `node ${MAIN} chain --tui --config chain.yaml`);
    await waitScreen((s) => s.includes('portico ·'), 'the header bar');
  });

  afterAll(async () => {
    await tmux('kill-session', '-t', SESSION).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the forward and the reverse flow of one request, and the detail names the request id; q stops it', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${forwardPort}`, '-H', 'X-Request-Id: tui-trace-7', 'http://app.portico.test/tui-check']);
    expect(r.status).toBe(200);
    expect(r.body).toContain('tui-trace-7'); // the backend echoes the id it received
    const list = await waitScreen((x) => count(x, '/tui-check') >= 2, 'a flow for each hop');
    expect(list).not.toContain('"level"'); // logs went to portico.log, not over the screen
    await tmux('send-keys', '-t', SESSION, 'Enter');
    const detail = await waitScreen((x) => x.includes('request tui-trace-7'), 'the request id in the detail view');
    expect(detail).toMatch(/mode (forward|reverse)/);
    await tmux('send-keys', '-t', SESSION, 'Escape');
    await tmux('send-keys', '-t', SESSION, 'q');
    for (let i = 0; i < 80 && (await tmux('has-session', '-t', SESSION).then(() => true, () => false)); i++) await sleep(100);
    expect(await tmux('has-session', '-t', SESSION).then(() => true, () => false)).toBe(false);
    expect(await readFile(join(dir, 'portico.log'), 'utf8')).toContain('TUI closed, shutting down');
  });
});
