/**
 * certs: how long the first intercepted CONNECT to a new host takes, and whether issuing leaves blocks the event
 * loop. Portico runs in this process (startForward, mitm on, log silent) with monitorEventLoopDelay({resolution: 1});
 * a child opens tunnels with a fresh SNI name each (h<i>.<run><phase>.bench.test): sequentially, 8 at once, and
 * again for the names already issued (cached). Time = socket connect → TLS secureConnect, measured in the child.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { forwardConfigSchema } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/load.js';
import { startForward } from '../../../src/forward/server.js';
import { createLogger } from '../../../src/observe/logger.js';
import { startOrigin } from '../lib/origin.js';
import { makeOriginPki } from '../lib/pki.js';
import { runForResult, tsNode } from '../lib/procs.js';
import type { ScenarioContext, ScenarioReport } from '../lib/scenario.js';
import { max, median, percentile } from '../lib/stats.js';
import { fmt, markdownTable } from '../lib/table.js';

interface TunnelArgs { proxyPort: number; originPort: number; caFile: string; names: string[]; concurrency: number; direct?: boolean }
interface TunnelResult { handshakeMs: number[]; connectReplyMs: number[]; errors: number }
interface PhaseRun { p50Ms: number; p99Ms: number; maxMs: number; connectReplyP50Ms: number; loopMaxMs: number; loopP99Ms: number; errors: number; samples: number }
interface Phase { name: string; concurrency: number; names: (run: number) => string[]; direct?: boolean }

export async function runCerts(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options } = ctx;
  const n = options.newHosts;
  const dir = join(ctx.tmp, 'certs');
  await mkdir(dir, { recursive: true });
  const pki = await makeOriginPki(dir);
  const origin = await startOrigin({ cert: pki.certFile, key: pki.keyFile });
  const config = validateConfig(forwardConfigSchema, {
    listen: '127.0.0.1:0', certs: join(dir, 'portico-certs'), mitm: { enabled: true }, connectPorts: [origin.port],
    targets: { allow: ['127.0.0.0/8'] }, upstream: { ca: pki.caFile }, log: { level: 'silent' },
  }, 'bench certs');
  const proxy = await startForward(config, { log: createLogger('silent') });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  try {
    const caFile = join(config.certs, 'ca.pem');
    const names = (tag: string) => (run: number): string[] => Array.from({ length: n }, (_, i) => `h${i}.r${run}${tag}.bench.test`);
    const phases: Phase[] = [
      { name: 'direct TLS to the origin (no proxy, reference)', concurrency: 1, names: () => Array<string>(n).fill('localhost'), direct: true },
      { name: 'new host, sequential', concurrency: 1, names: names('s') },
      { name: 'new hosts, 8 at once', concurrency: 8, names: names('p') },
      { name: 'cached host (names of the sequential phase again)', concurrency: 1, names: names('s') },
    ];
    const results = new Map<string, PhaseRun[]>(phases.map((p) => [p.name, []]));
    for (let run = 1; run <= options.rounds; run++) {
      for (const phase of phases) {
        const args: TunnelArgs = { proxyPort: proxy.port, originPort: origin.port, caFile: phase.direct ? pki.caFile : caFile, names: phase.names(run), concurrency: phase.concurrency, ...(phase.direct ? { direct: true } : {}) };
        const [cmd, argv] = tsNode('clients/new-tunnels.ts', [JSON.stringify(args)]);
        await ctx.quiet.wait('certs');
        loop.disable();
        // The window opens at the client's START line, after its boot, so the child's start-up is not counted.
        const r = await runForResult<TunnelResult>(`tunnels ${phase.name}`, cmd, argv, 120_000, (line) => {
          if (line === 'START') { loop.reset(); loop.enable(); }
        });
        loop.disable();
        const one: PhaseRun = {
          p50Ms: percentile(r.handshakeMs, 50), p99Ms: percentile(r.handshakeMs, 99), maxMs: max(r.handshakeMs),
          connectReplyP50Ms: percentile(r.connectReplyMs, 50),
          loopMaxMs: loop.max / 1e6, loopP99Ms: loop.percentile(99) / 1e6, errors: r.errors, samples: r.handshakeMs.length,
        };
        results.get(phase.name)!.push(one);
        console.error(`[certs] run ${run}/${options.rounds} ${phase.name}: p50 ${fmt(one.p50Ms)} ms, p99 ${fmt(one.p99Ms)} ms, loop max ${fmt(one.loopMaxMs)} ms, errors ${one.errors}`);
      }
    }
    const rows = phases.map((p) => {
      const runs = results.get(p.name)!;
      return [p.name, runs.reduce((a, r) => a + r.samples, 0), fmt(median(runs.map((r) => r.p50Ms))), fmt(median(runs.map((r) => r.p99Ms))),
        fmt(max(runs.map((r) => r.maxMs))), p.direct ? '–' : fmt(median(runs.map((r) => r.connectReplyP50Ms))),
        fmt(max(runs.map((r) => r.loopMaxMs))), fmt(median(runs.map((r) => r.loopP99Ms))), runs.reduce((a, r) => a + r.errors, 0)];
    });
    const markdown = [
      '### certs: first intercepted CONNECT to a new host (leaf issued on the fly)',
      `${options.rounds} run(s) of ${n} tunnels per phase; time from TCP connect to the proxy until TLS secureConnect inside the tunnel (CONNECT + 200 + handshake with the Portico leaf). Event-loop delay of the proxy process (in-process Portico, monitorEventLoopDelay resolution 1 ms) during each phase. Target: a new host adds < 10 ms at the median; the loop never blocks more than a few ms.`,
      '', markdownTable(['phase', 'tunnels', 'p50 ms', 'p99 ms', 'max ms', 'CONNECT→200 p50 ms', 'loop delay max ms', 'loop delay p99 ms (median)', 'errors'], rows),
    ].join('\n');
    return { name: 'certs', markdown, data: Object.fromEntries(results) };
  } finally {
    loop.disable();
    await proxy.close(1000).catch(() => undefined);
    await origin.proc.stop();
  }
}
