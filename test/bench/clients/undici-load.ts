/**
 * HTTPS keep-alive load client for the mitm and connect scenarios: `connections` concurrent loops of GET for a fixed
 * duration, through undici ProxyAgent (CONNECT tunnels, reused) or an Agent straight to the origin. argv[2] is JSON
 * (Args). The first warmupSec are not recorded (tunnels, handshakes, leaf certificates).
 */
import { readFileSync } from 'node:fs';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { printResult } from '../lib/load-result.js';
import { percentileSorted } from '../lib/stats.js';

interface Args { target: string; proxy?: string; caFile: string; connections: number; durationSec: number; warmupSec: number }

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const ca = readFileSync(args.caFile, 'utf8');
const dispatcher: Dispatcher = args.proxy
  ? new ProxyAgent({ uri: args.proxy, requestTls: { ca }, connections: args.connections })
  : new Agent({ connect: { ca }, connections: args.connections });
const target = new URL(args.target);

const stats = { recording: false, responses: 0, ok: 0, non2xx: 0, errors: 0, latencies: [] as number[], samples: new Set<string>() };
let stopAt = 0;

async function once(): Promise<number> {
  const { statusCode, body } = await dispatcher.request({ origin: target.origin, path: target.pathname, method: 'GET' });
  for await (const _chunk of body) { /* consume */ }
  return statusCode;
}

async function worker(): Promise<void> {
  while (performance.now() < stopAt) {
    const t0 = performance.now();
    try {
      const status = await once();
      stats.responses++;
      if (!stats.recording) continue;
      if (status >= 200 && status < 300) {
        stats.ok++;
        stats.latencies.push(performance.now() - t0);
      } else {
        stats.non2xx++;
        if (stats.samples.size < 3) stats.samples.add(`HTTP ${status}`);
      }
    } catch (err) {
      if (stats.recording) stats.errors++;
      if (stats.samples.size < 3) stats.samples.add(err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` : String(err));
      await new Promise((r) => setTimeout(r, 10)); // a broken tunnel must not become a busy loop
    }
  }
}

async function phase(seconds: number): Promise<number> {
  const start = performance.now();
  stopAt = start + seconds * 1000;
  await Promise.all(Array.from({ length: args.connections }, worker));
  return (performance.now() - start) / 1000;
}

await phase(args.warmupSec);
stats.recording = true;
const elapsed = await phase(args.durationSec);
for (const s of stats.samples) console.error(`error sample: ${s}`);
const sorted = Float64Array.from(stats.latencies).sort();
printResult({
  reqPerSec: stats.ok / elapsed, ok: stats.ok, errors: stats.errors, non2xx: stats.non2xx,
  p50Ms: percentileSorted(sorted, 50), p99Ms: percentileSorted(sorted, 99), durationSec: elapsed, responses: stats.responses,
});
await dispatcher.destroy().catch(() => undefined);
process.exit(0);
