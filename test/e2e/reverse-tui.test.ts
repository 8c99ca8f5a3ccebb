import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startBackend, type TestBackend } from '../helpers/reverse.js';
import { hasTmux, sessionGone, tmux, waitScreen } from '../helpers/tmux.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const SESSION = `portico-rtui-${process.pid}`;

describe.skipIf(!hasTmux('reverse --tui e2e'))('portico reverse --tui in a real terminal (tmux)', () => {
  let backends: TestBackend[];
  let dir: string;
  let port: number;

  beforeAll(async () => {
    backends = await Promise.all(['b1', 'b2'].map((n) => startBackend(n)));
    dir = await mkdtemp(join(tmpdir(), 'portico-rtui-'));
    port = await freePort();
    const cmd = `node ${MAIN} reverse --tui --listen 127.0.0.1:${port} ${backends.map((b) => `--backend ${b.address}`).join(' ')}`;
    await tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '40', '-c', dir, cmd);
    await waitScreen(SESSION, (s) => s.includes('portico · reverse'), 'the header bar');
  });

  afterAll(async () => {
    await tmux('kill-session', '-t', SESSION).catch(() => undefined);
    for (const b of backends) await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the balanced flows live, then stops gracefully on q', async () => {
    for (const path of ['/hello', '/world']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(res.status).toBe(200);
      await res.text();
    }
    const s = await waitScreen(SESSION, (x) => x.includes('/hello') && x.includes('/world'), 'both flows');
    expect(s).toContain(`reverse http://127.0.0.1:${port}`);
    expect(s).not.toContain('"level"'); // logs went to portico.log, not over the screen
    await tmux('send-keys', '-t', SESSION, 'q');
    expect(await sessionGone(SESSION)).toBe(true);
    expect(await readFile(join(dir, 'portico.log'), 'utf8')).toContain('TUI closed, shutting down');
  });
});
