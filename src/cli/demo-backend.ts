import { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { parseHostPort } from '../config/schema.js';
import { startDemoBackend } from '../demo/backend.js';
import { createLogger, type LogLevel } from '../observe/logger.js';
import { runUntilSignal } from './signals.js';

interface DemoFlags { listen: string; id: string; logLevel?: string }

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `portico demo-backend --listen HOST:PORT --id NAME`: a backend to balance over in demos and tests. */
export function demoBackendCommand(): Command {
  return new Command('demo-backend')
    .description('run a demo HTTP backend: echoes its id and request headers; /slow?ms=N, /fail?status=N, /cacheable?max-age=N, /healthz')
    .option('--listen <host:port>', 'address to listen on (port 0: any free port)', '127.0.0.1:9001')
    .option('--id <name>', 'the name it answers with (X-Backend-Id and the JSON body)', 'demo')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent', 'info')
    .action(async (flags: DemoFlags) => {
      const listen = parseHostPort(flags.listen, '127.0.0.1');
      if (!listen) throw new ConfigError(`--listen: expected HOST:PORT, got "${flags.listen}"`);
      if (!ID.test(flags.id)) throw new ConfigError(`--id: expected 1-64 letters, digits, . _ -, got "${flags.id}"`);
      const level = flags.logLevel ?? 'info';
      if (!LEVELS.has(level)) throw new ConfigError(`--log-level: expected one of ${[...LEVELS].join('|')}, got "${level}"`);
      const log = createLogger(level as LogLevel);
      const backend = await startDemoBackend({ id: flags.id, ...listen });
      await runUntilSignal(log, () => backend.close(), () => {
        process.stdout.write(`portico demo-backend listening on ${backend.url}\n`);
      });
    });
}
