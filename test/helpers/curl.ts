import { execFile } from 'node:child_process';

export interface CurlResult { code: number; status: number; body: string; stderr: string; headers: string }

/**
 * Runs the real curl asynchronously (never execFileSync: the proxy under test shares this event loop).
 * `-w` appends the status so it can be read even when the body is binary; headers go to a separate dump.
 */
export function curl(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CurlResult> {
  const full = ['-sS', '--max-time', String((opts.timeoutMs ?? 15_000) / 1000), '-D', '/dev/stderr', '-w', '\n%{http_code}', ...args];
  return new Promise((resolve) => {
    execFile('curl', full, { env: { PATH: process.env.PATH, ...opts.env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const nl = stdout.lastIndexOf('\n');
      const status = Number(stdout.slice(nl + 1)) || 0;
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, status, body: stdout.slice(0, Math.max(nl, 0)), stderr, headers: stderr });
    });
  });
}
