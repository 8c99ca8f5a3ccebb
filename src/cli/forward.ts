import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, mergeConfig, readConfigFile, validateConfig } from '../config/load.js';
import { forwardConfigSchema, type ForwardConfig } from '../config/schema.js';
import { startForward } from '../forward/server.js';
import { createLogger } from '../observe/logger.js';
import { logFlows } from '../observe/flow-log.js';
import { flagsToConfig, normalizeFileConfig, type ForwardFlags } from './forward-options.js';
import { runUntilSignal } from './signals.js';

export const DEFAULT_CONFIG_FILE = 'portico.yaml';

export function loadForwardConfig(flags: ForwardFlags): ForwardConfig {
  const file = flags.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const fromFile = file ? normalizeFileConfig(readConfigFile(file)) : {};
  const merged = mergeConfig(fromFile, flagsToConfig(flags));
  return validateConfig(forwardConfigSchema, merged, file ? `${file} + flags` : 'flags');
}

export function forwardCommand(): Command {
  return new Command('forward')
    .description('run the forward (client-side) HTTP/HTTPS proxy')
    .option('-c, --config <file>', `YAML config file (default: ./${DEFAULT_CONFIG_FILE} when present)`)
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080)')
    .option('--mitm', 'intercept HTTPS with Portico\'s CA')
    .option('--mitm-bypass <globs>', 'comma-separated host globs tunnelled blind even with --mitm')
    .option('--connect-ports <ports>', 'comma-separated ports CONNECT may reach (default 443)')
    .option('--allow-target <list>', 'CIDRs/hosts the SSRF guard lets through (e.g. 127.0.0.0/8)')
    .option('--allow-client <cidrs>', 'client CIDRs allowed to use the proxy (default loopback)')
    .option('--upstream-proxy <url>', 'send everything through this parent proxy (http://host:port)')
    .option('--upstream-ca <file>', 'extra PEM CA trusted for origin certificates')
    .option('--insecure-upstream', 'accept invalid origin certificates')
    .option('--auth-file <file>', 'htpasswd-style users file (bcrypt or scrypt hashes); enables proxy auth')
    .option('--certs <dir>', 'folder of the CA and leaf keys (default ./certs)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--shutdown-grace <ms>', 'time in-flight exchanges get on SIGTERM (default 10000)')
    .option('--rules <dir>', 'content policy folder: *.yaml rules and lists/NAME.txt categories (default ./rules)')
    .option('--policy-report-only', 'log policy blocks but let every request pass')
    .option('--anonymize <profile>', 'default header anonymization: strict|standard|off (default standard)')
    .option('--cache <store>', 'HTTP cache store: memory (default) | redis://HOST:PORT[/DB] | redis-cluster://H:P,H:P | off')
    .option('--no-cache', 'disable the HTTP cache')
    .option('--cache-max-object <bytes>', 'larger responses stream through uncached (default 8388608)')
    .option('--cache-max-memory <bytes>', 'memory store budget, LRU beyond it (default 268435456)')
    .action(async (flags: ForwardFlags) => {
      const config = loadForwardConfig(flags);
      const log = createLogger(config.log.level);
      const proxy = await startForward(config, { log });
      logFlows(proxy.bus, log);
      process.on('SIGHUP', () => void proxy.reloadPolicy());
      process.stdout.write(`portico forward listening on ${proxy.url}\n`);
      if (config.mitm.enabled) log.info({ certs: config.certs }, 'TLS interception on');
      await runUntilSignal(log, () => proxy.close());
    });
}

export { ConfigError };
