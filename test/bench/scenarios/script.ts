import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../lib/procs.js';
import type { ScenarioContext, ScenarioReport } from '../lib/scenario.js';

/**
 * Runs one of the stand-alone bench scripts (policy.bench.ts, cache.bench.ts) as a child process, so
 * `npm run bench` covers every issue's figures; its stdout is the scenario's Markdown section.
 */
export async function runScript(ctx: ScenarioContext, name: string, script: string, args: (quick: boolean) => string[]): Promise<ScenarioReport> {
  await ctx.quiet.wait(name);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'bench', script), ...args(ctx.options.quick)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return { name, markdown: `### ${name}\n\n${out.trim()}`, data: { output: out } };
}
