import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CurlResult { code: number; status: number; body: string; stderr: string; headers: string }

/**
 * Runs the real curl asynchronously (never execFileSync: the proxy under test shares this event loop).
 * `-w` appends the status so it can be read even when the body is binary; headers are dumped to a temp file
 * (`-D /dev/stderr` crashes curl when stderr is a pipe here).
 */
export async function curl(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CurlResult> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-curl-'));
  const headerFile = join(dir, 'headers');
  const full = ['-sS', '--max-time', String((opts.timeoutMs ?? 15_000) / 1000), '-D', headerFile, '-w', '\n%{http_code}', ...args];
  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('curl', full, { env: { PATH: process.env.PATH, ...opts.env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
  const headers = await readFile(headerFile, 'utf8').catch(() => '');
  await rm(dir, { recursive: true, force: true });
  const nl = out.stdout.lastIndexOf('\n');
  const status = Number(out.stdout.slice(nl + 1)) || 0;
  return { code: out.code, status, body: out.stdout.slice(0, Math.max(nl, 0)), stderr: out.stderr, headers };
}
