import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';

export interface ExportOptions { har: string; connect: string; token?: string; timeoutMs?: number }

/** Fetches GET /har from a running instance's admin endpoint and writes it to a file; resolves with the entry count. */
export async function exportHar(o: ExportOptions): Promise<number> {
  const url = new URL('/har', o.connect);
  const res = await fetch(url, {
    headers: o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {},
    signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
  });
  if (res.status === 401) throw new Error(`${url.origin} refused the request (401): pass --token`);
  if (!res.ok) throw new Error(`${url.href} answered ${res.status}`);
  const text = await res.text();
  const har = JSON.parse(text) as { log?: { version?: string; entries?: unknown[] } };
  if (har.log?.version !== '1.2' || !Array.isArray(har.log.entries)) throw new Error(`${url.href} did not return HAR 1.2`);
  await writeFile(o.har, text);
  return har.log.entries.length;
}

export function logCommand(): Command {
  const log = new Command('log').description('work with the flows a running Portico keeps');
  log.command('export')
    .description('write the flows in a running instance\'s ring buffer as HAR 1.2 (browser dev tools open it)')
    .requiredOption('--har <file>', 'output file')
    .requiredOption('--connect <url>', 'admin endpoint of the running instance, e.g. http://127.0.0.1:9090')
    .option('--token <token>', 'bearer token of the admin endpoint')
    .action(async (opts: ExportOptions) => {
      const n = await exportHar(opts);
      process.stdout.write(`wrote ${n} flows to ${opts.har}\n`);
    });
  return log;
}
