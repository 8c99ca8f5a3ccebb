/** The JSON record of a bench run: test/bench/results/<date>.json (not committed: see test/bench/.gitignore). */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR } from './procs.js';

export async function writeResults(startedAt: Date, data: Record<string, unknown>): Promise<string> {
  const dir = join(BENCH_DIR, 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/:/g, '-').replace(/\..*$/, '')}.json`);
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', loadavg: loadavg() };
  await writeFile(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, ...data }, null, 2)}\n`);
  return file;
}
