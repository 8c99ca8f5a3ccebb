import { afterAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { caCommand, type CaCommandIo } from '../../../src/cli/ca.js';
import { removeDir, tempDir } from './fixtures.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map(removeDir));
});

interface Run { stdout: Buffer; stderr: string; exitCode: number | undefined }

/** Runs `portico ca …` in-process, capturing both streams and the exit code; commander never exits the worker. */
async function runCa(args: string[], isTTY = false): Promise<Run> {
  const out: Buffer[] = [];
  let stderr = '';
  let exitCode: number | undefined;
  const io: CaCommandIo = {
    stdout: { write: (c) => out.push(Buffer.from(c)), isTTY },
    stderr: { write: (c) => (stderr += c) },
    setExitCode: (c) => { exitCode = c; },
  };
  const cmd = caCommand(io);
  const exitOverride = (c: Command): void => { c.exitOverride(); c.commands.forEach(exitOverride); };
  exitOverride(cmd);
  try {
    await cmd.parseAsync(['node', 'ca', ...args]);
  } catch (err) {
    exitCode = (err as { exitCode?: number }).exitCode ?? -1;
  }
  return { stdout: Buffer.concat(out), stderr, exitCode };
}

async function certsDir(): Promise<string> {
  const d = await tempDir('portico-cli-');
  dirs.push(d);
  return join(d, 'certs');
}

describe('portico ca init', () => {
  it('creates the files and prints where, with the SHA-256 fingerprint', async () => {
    const dir = await certsDir();
    const r = await runCa(['init', '--certs', dir]);
    expect(r.exitCode).toBeUndefined();
    const fingerprint = new X509Certificate(await readFile(join(dir, 'ca.pem'))).fingerprint256;
    const text = r.stdout.toString('utf8');
    expect(text).toContain(join(dir, 'ca.pem'));
    expect(text).toContain(join(dir, 'ca.key'));
    expect(text).toContain(`SHA-256 fingerprint: ${fingerprint}`);
    expect((await stat(join(dir, 'ca.key'))).mode & 0o777).toBe(0o600);
  });

  it('refuses to replace a CA without --force: one line on stderr, exit code 1', async () => {
    const dir = await certsDir();
    await runCa(['init', '--certs', dir]);
    const r = await runCa(['init', '--certs', dir]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^portico ca init: a CA already exists in .*--force.*\n$/);
    expect(r.stderr).not.toContain('    at ');
    const forced = await runCa(['init', '--certs', dir, '--force']);
    expect(forced.exitCode).toBeUndefined();
  });
});

describe('portico ca export', () => {
  it('writes PEM by default and raw DER on request', async () => {
    const dir = await certsDir();
    await runCa(['init', '--certs', dir]);
    const pem = await runCa(['export', '--certs', dir]);
    expect(pem.stdout.toString('utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const der = await runCa(['export', '--certs', dir, '--format', 'der']);
    expect(der.stdout[0]).toBe(0x30);
    expect(new X509Certificate(der.stdout).fingerprint256).toBe(new X509Certificate(pem.stdout).fingerprint256);
  });

  it('refuses DER on a terminal', async () => {
    const dir = await certsDir();
    await runCa(['init', '--certs', dir]);
    const r = await runCa(['export', '--certs', dir, '--format', 'der'], true);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toHaveLength(0);
    expect(r.stderr).toMatch(/redirect it/);
  });

  it('explains a missing CA and rejects an unknown format', async () => {
    const dir = await certsDir();
    const missing = await runCa(['export', '--certs', dir]);
    expect(missing).toMatchObject({ exitCode: 1, stderr: `portico ca export: no CA in ${dir}: run "portico ca init"\n` });
    const bad = await runCa(['export', '--certs', dir, '--format', 'p12']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/Allowed choices are pem, der/);
  });
});
