import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { freePort } from '../helpers/ports.js';
import { hasTmux, sessionGone, tmux, waitScreen } from '../helpers/tmux.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const SESSION = `portico-chaintui-${process.pid}`;

const count = (s: string, needle: string): number => s.split(needle).length - 1;

describe.skipIf(!hasTmux('chain --tui e2e'))('portico chain --tui: every hop of one request in one terminal (tmux)', () => {
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
    await waitScreen(SESSION, (s) => s.includes('portico ·'), 'the header bar');
  });

  afterAll(async () => {
    await tmux('kill-session', '-t', SESSION).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the forward and the reverse flow of one request, and the detail names the request id; q stops it', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${forwardPort}`, '-H', 'X-Request-Id: tui-trace-7', 'http://app.portico.test/tui-check']);
    expect(r.status).toBe(200);
    expect(r.body).toContain('tui-trace-7'); // the backend echoes the id it received
    const list = await waitScreen(SESSION, (x) => count(x, '/tui-check') >= 2, 'a flow for each hop');
    expect(list).not.toContain('"level"'); // logs went to portico.log, not over the screen
    await tmux('send-keys', '-t', SESSION, 'Enter');
    const detail = await waitScreen(SESSION, (x) => x.includes('request tui-trace-7'), 'the request id in the detail view');
    expect(detail).toMatch(/mode (forward|reverse)/);
    await tmux('send-keys', '-t', SESSION, 'Escape');
    // Only then q: an ESC and a q read in one chunk (a busy machine reads the pty late) are Alt+q to Ink, which
    // neither goes back nor quits.
    await waitScreen(SESSION, (x) => !x.includes('request tui-trace-7') && count(x, '/tui-check') >= 2, 'the list again after Escape');
    await tmux('send-keys', '-t', SESSION, 'q');
    expect(await sessionGone(SESSION)).toBe(true);
    expect(await readFile(join(dir, 'portico.log'), 'utf8')).toContain('TUI closed, shutting down');
  });
});
