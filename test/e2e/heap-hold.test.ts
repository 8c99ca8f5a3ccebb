import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const cleanup: Array<() => void> = [];
afterEach(() => { for (const c of cleanup.splice(0)) c(); });

/** An idle `portico reverse` with V8's GC trace on stdout (the backend is never asked: no request comes). */
function idleReverse(nodeFlags: string[]): { output: () => string; seen: (re: RegExp, ms: number) => Promise<boolean> } {
  const proc = spawn(process.execPath, [...nodeFlags, '--trace-gc', MAIN, 'reverse', '--listen', '127.0.0.1:0', '--backend', '127.0.0.1:9', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.push(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  return {
    output: () => out,
    seen: (re, ms) => new Promise((resolve) => {
      const deadline = Date.now() + ms;
      const poll = (): void => {
        if (re.test(out)) return resolve(true);
        if (Date.now() > deadline || proc.exitCode !== null) return resolve(false);
        setTimeout(poll, 100);
      };
      poll();
    }),
  };
}

const REDUCE = /Mark-Compact \(reduce\)/;

describe('portico holds V8\'s heap limits (cluster/heap.ts, called first by main.ts)', () => {
  it('an idle process is not shrunk by the memory reducer, while one started with --memory-reducer is, 8 s in', async () => {
    const held = idleReverse([]);
    const control = idleReverse(['--memory-reducer']); // the operator's choice: main.ts leaves the reducer alone
    expect(await held.seen(/portico reverse listening on /, 10_000)).toBe(true);
    // V8 starts the reducer 8 s after the first full GC of an idle process; the control shows this test can fail.
    expect(await control.seen(REDUCE, 25_000), control.output().slice(-2000)).toBe(true);
    expect(held.output()).not.toMatch(REDUCE);
  }, 40_000);
});
