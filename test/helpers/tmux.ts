/** A real terminal for TUI end-to-end tests: tmux sessions, screen captures, a bounded wait for what the screen shows. */
import { execFile, execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when tmux is installed; says loudly what is skipped otherwise. */
export function hasTmux(what: string): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    console.error(`${what} skipped: tmux is not installed`);
    return false;
  }
}

export function tmux(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => { execFile('tmux', args, (err, stdout) => (err ? reject(err) : resolve(stdout))); });
}

/** Polls the session's screen until `test` passes; throws with the last screen after `timeoutMs`. */
export async function waitScreen(session: string, test: (s: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  let last = '';
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) {
    last = await tmux('capture-pane', '-p', '-t', session).catch(() => last);
    if (test(last)) return last;
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

/** Waits (bounded) for the session to end by itself, e.g. after `q`; resolves whether it is gone. */
export async function sessionGone(session: string, timeoutMs = 8_000): Promise<boolean> {
  const alive = (): Promise<boolean> => tmux('has-session', '-t', session).then(() => true, () => false);
  for (const end = Date.now() + timeoutMs; Date.now() < end && (await alive()); await sleep(100));
  return !(await alive());
}
