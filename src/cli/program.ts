/** The `portico` command line: its subcommands, loaded on demand, and the exit codes of its errors (main.ts runs it). */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

const program = new Command('portico')
  .description('Portico: forward proxy, reverse proxy / L7 and L4 balancers, one pipeline')
  .version(version, '-V, --version')
  .showHelpAfterError()
  .exitOverride();

/**
 * Each subcommand's module, in help order. Only the one named on the command line is loaded (its mode's servers,
 * stores and libraries); help, --version and anything commander must reject load them all. Loading every mode for
 * every start cost ~0.5 s of CPU, paid by each `portico policy test` and each worker process.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Command>]> = [
  ['forward', async () => (await import('./forward.js')).forwardCommand()],
  ['reverse', async () => (await import('./reverse.js')).reverseCommand()],
  ['l4', async () => (await import('./l4.js')).l4Command()],
  ['route', async () => (await import('./route.js')).routeCommand()],
  ['ca', async () => (await import('./ca.js')).caCommand()],
  ['cache', async () => (await import('./cache.js')).cacheCommand()],
  ['policy', async () => (await import('./policy.js')).policyCommand()],
  ['tui', async () => (await import('./tui.js')).tuiCommand(version)],
  ['log', async () => (await import('./log.js')).logCommand()],
  ['chain', async () => (await import('./chain.js')).chainCommand()],
  ['demo-backend', async () => (await import('./demo-backend.js')).demoBackendCommand()],
];

const named = process.argv[2];
const matching = COMMANDS.filter(([name]) => name === named);
const toLoad = named === '-V' || named === '--version' ? [] : matching.length > 0 ? matching : COMMANDS;
for (const [, load] of toLoad) program.addCommand(await load());

// Output nobody can take (stdout on a full disk, a closed pipe) must not take the proxy down; the log sinks degrade
// on their own (observe/degrade.ts).
process.stdout.on('error', () => undefined);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof ConfigError) {
    process.stderr.write(`portico: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`portico: ${message}\n`);
    process.exitCode = 1;
  }
}
