import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../src/core/clock.js';
import { initCa, loadCa, type CaMaterial } from '../../../src/tls/ca.js';

/** A fresh temp folder per use; RSA key generation dominates, so suites create one CA in beforeAll and share it. */
export async function tempDir(prefix = 'portico-tls-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function freshCa(): Promise<CaMaterial> {
  const dir = await tempDir();
  await initCa(dir);
  return loadCa(dir);
}

/** A clock the test moves by hand. */
export function manualClock(startMs = Date.now()): Clock & { advance(ms: number): void } {
  let t = startMs;
  return { now: () => t, monotonic: () => t, advance: (ms) => { t += ms; } };
}

export const DAY_MS = 24 * 60 * 60 * 1000;
