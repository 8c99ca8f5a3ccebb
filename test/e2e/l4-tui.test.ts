import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpEcho, talk, type TcpEcho } from '../helpers/l4.js';
import { freePort } from '../helpers/ports.js';
import { hasTmux, sessionGone, tmux, waitScreen } from '../helpers/tmux.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const SESSION = `portico-l4tui-${process.pid}`;

describe.skipIf(!hasTmux('l4 --tui e2e'))('portico l4 --tui in a real terminal (tmux)', () => {
  let backends: TcpEcho[];
  let dir: string;
  let port: number;

  beforeAll(async () => {
    backends = await Promise.all(['e1', 'e2'].map((n) => startTcpEcho(n)));
    dir = await mkdtemp(join(tmpdir(), 'portico-l4tui-'));
    port = await freePort();
    const cmd = `node ${MAIN} l4 --tui --listen 127.0.0.1:${port} ${backends.map((b) => `--backend ${b.address}`).join(' ')}`;
    await tmux('new-session', '-d', '-s', SESSION, '-x', '140', '-y', '40', '-c', dir, cmd);
    await waitScreen(SESSION, (s) => s.includes('portico · l4'), 'the header bar');
  });

  afterAll(async () => {
    await tmux('kill-session', '-t', SESSION).catch(() => undefined);
    for (const b of backends) await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows each closed connection with its backend live, then stops gracefully on q', async () => {
    const replies = [await talk(port, 'one'), await talk(port, 'two')];
    expect(replies.map((r) => r.split(':')[1])).toEqual(['one', 'two']);
    expect(replies.map((r) => r.split(':')[0]).sort()).toEqual(['e1', 'e2']); // round robin: one connection each
    const s = await waitScreen(SESSION, (x) => backends.every((b) => x.includes(b.address)) && x.includes('TCP'), 'a flow per backend');
    expect(s).toContain(`l4 tcp://127.0.0.1:${port}`);
    expect(s).not.toContain('"level"'); // logs went to portico.log, not over the screen
    await tmux('send-keys', '-t', SESSION, 'q');
    expect(await sessionGone(SESSION)).toBe(true);
    expect(await readFile(join(dir, 'portico.log'), 'utf8')).toContain('TUI closed, shutting down');
  });
});
