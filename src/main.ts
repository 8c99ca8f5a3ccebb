#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config/load.js';
import { cacheCommand } from './cli/cache.js';
import { caCommand } from './cli/ca.js';
import { chainCommand } from './cli/chain.js';
import { demoBackendCommand } from './cli/demo-backend.js';
import { forwardCommand } from './cli/forward.js';
import { l4Command } from './cli/l4.js';
import { logCommand } from './cli/log.js';
import { policyCommand } from './cli/policy.js';
import { reverseCommand } from './cli/reverse.js';
import { routeCommand } from './cli/route.js';
import { tuiCommand } from './cli/tui.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

const program = new Command('portico')
  .description('Portico: forward proxy, reverse proxy / L7 and L4 balancers, one pipeline')
  .version(version, '-V, --version')
  .showHelpAfterError()
  .exitOverride();

program.addCommand(forwardCommand());
program.addCommand(reverseCommand());
program.addCommand(l4Command());
program.addCommand(routeCommand());
program.addCommand(caCommand());
program.addCommand(cacheCommand());
program.addCommand(policyCommand());
program.addCommand(tuiCommand(version));
program.addCommand(logCommand());
program.addCommand(chainCommand());
program.addCommand(demoBackendCommand());

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
