/**
 * `npm run bench`: Portico's forward proxy vs a direct baseline, on 127.0.0.1 only.
 *   BENCH_QUICK=1                          ~1 minute smoke run (1 round of 3 s, 50 new hosts)
 *   BENCH_ONLY=plain,mitm,connect,certs,policy,cache,workers,logging,l4,reverse    pick scenarios (default: all)
 * Prints Markdown tables on stdout (progress on stderr) and writes test/bench/results/<date>.json.
 * Speed targets live here, never in timed unit tests.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOptions } from './lib/options.js';
import { ROOT, stopAll, stopChildrenOnSignal } from './lib/procs.js';
import { QuietGate } from './lib/quiet.js';
import { writeResults } from './lib/results.js';
import type { ScenarioContext, ScenarioReport } from './lib/scenario.js';
import { runCerts } from './scenarios/certs.js';
import { runHttps } from './scenarios/https.js';
import { runL4 } from './scenarios/l4.js';
import { runPlain } from './scenarios/plain.js';
import { runReverse } from './scenarios/reverse.js';
import { runScript } from './scenarios/script.js';
import { runWorkers } from './scenarios/workers.js';

async function main(): Promise<number> {
  const options = readOptions();
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first (npm run bench does)');
  const startedAt = new Date();
  const tmp = await mkdtemp(join(tmpdir(), 'portico-bench-'));
  stopChildrenOnSignal(() => rm(tmp, { recursive: true, force: true }));
  // Other jobs share the 2 cores: wait (at most 20 s per bench run, 10 s quick) while they use > 25 % of a core.
  const ctx: ScenarioContext = { options, tmp, quiet: new QuietGate(25, options.quick ? 10_000 : 20_000) };
  const reports: ScenarioReport[] = [];
  const failures: string[] = [];
  const attempt = async (name: string, fn: () => Promise<ScenarioReport>): Promise<void> => {
    const t0 = Date.now();
    try {
      const report = await fn();
      reports.push(report);
      console.log(`${report.markdown}\n`);
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      console.error(`bench: ${name} failed: ${err instanceof Error ? err.stack : String(err)}`);
    } finally {
      await stopAll();
      console.error(`[${name}] ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  };
  console.log(`## Portico forward proxy bench${options.quick ? ' (BENCH_QUICK: smoke run, not for numbers)' : ''}\n`);
  console.log(`${startedAt.toISOString()}, Node ${process.version}, scenarios: ${[...options.only].join(', ')}\n`);
  try {
    if (options.only.has('plain')) await attempt('plain', () => runPlain(ctx));
    const mitm = options.only.has('mitm');
    const connect = options.only.has('connect');
    if (mitm || connect) await attempt('mitm/connect', () => runHttps(ctx, { mitm, connect }));
    if (options.only.has('certs')) await attempt('certs', () => runCerts(ctx));
    if (options.only.has('policy')) {
      await attempt('policy', () => runScript(ctx, 'policy (200 000 domains)', 'policy.bench.ts', (quick) => (quick ? ['50000'] : [])));
    }
    if (options.only.has('cache')) {
      await attempt('cache', () => runScript(ctx, 'cache hits', 'cache.bench.ts', (quick) => (quick ? ['--duration', '2', '--rounds', '1'] : [])));
    }
    if (options.only.has('workers')) await attempt('workers', () => runWorkers(ctx));
    if (options.only.has('logging')) {
      await attempt('logging', () => runScript(ctx, 'logging cost (issue 5: < 10% with JSON to a file)', 'logging.bench.ts',
        (quick) => (quick ? ['--duration', '2', '--rounds', '1'] : ['--duration', '5', '--rounds', '5'])));
    }
    if (options.only.has('l4')) await attempt('l4', () => runL4(ctx));
    if (options.only.has('reverse')) await attempt('reverse', () => runReverse(ctx));
  } finally {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  }
  const file = await writeResults(startedAt, {
    options: { ...options, only: [...options.only] },
    scenarios: Object.fromEntries(reports.map((r) => [r.name, r.data])),
    failures,
  });
  console.error(`bench: results in ${file} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)`);
  for (const f of failures) console.error(`bench: FAILED ${f}`);
  return failures.length > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), async (err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  await stopAll();
  process.exit(1);
});
