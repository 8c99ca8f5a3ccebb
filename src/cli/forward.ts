import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import type { PurgePlan } from '../cache/purge.js';
import { runClusterPrimaryIfAsked } from '../cluster/run.js';
import { isClusterWorker, reportReady, workerObservers } from '../cluster/worker.js';
import { ConfigError, mergeConfig, readConfigFile, validateConfig } from '../config/load.js';
import { forwardConfigSchema, type ForwardConfig } from '../config/schema.js';
import { startForward } from '../forward/server.js';
import { startObservers } from '../observe/observers.js';
import { flagsToConfig, normalizeFileConfig, type ForwardFlags } from './forward-options.js';
import { runUntilSignal } from './signals.js';
import { processLogger, runForwardTui, TUI_LOG_FILE } from './tui.js';

export const DEFAULT_CONFIG_FILE = 'portico.yaml';
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

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
    .option('--cache <store>', 'HTTP cache store: memory (default) | redis://HOST:PORT[/DB] | redis-cluster://H:P,H:P | redis+sentinel://H:P,H:P/MASTER | off')
    .option('--no-cache', 'disable the HTTP cache')
    .option('--cache-max-object <bytes>', 'larger responses stream through uncached (default 8388608)')
    .option('--cache-max-memory <bytes>', 'memory store budget, LRU beyond it (default 268435456)')
    .option('--log-format <format>', 'access-log lines: json (default) | squid | combined')
    .option('--access-log <dest>', 'access-log destinations, comma-separated: - (stdout, default) and/or FILE (rotated)')
    .option('--log-headers', 'capture request and response headers in flow records (secrets redacted)')
    .option('--log-bodies <bytes>', 'keep the first BYTES of each text body on flow records (default 0: off)')
    .option('--admin <host:port>', 'serve the admin endpoint (metrics, flows, events, purge); off by default')
    .option('--admin-token <token>', 'require Authorization: Bearer TOKEN on the admin endpoint')
    .option('--max-connections <n>', 'open client connections in total; beyond: 503 and close (default 10000)')
    .option('--max-connections-per-client <n>', 'open connections per client address; beyond: 503 and close (default 512)')
    .option('--workers <n|auto>', 'worker processes sharing the listen socket (default 1; auto = one per core)')
    .option('--tui', `show live flows in a terminal UI; logs then go to ./${TUI_LOG_FILE}`)
    .action(async (flags: ForwardFlags) => {
      const config = loadForwardConfig(flags);
      if (await runClusterPrimaryIfAsked('forward', config, { version: VERSION, tui: flags.tui === true })) return;
      const { log, tuiFd } = processLogger(config.log.level, flags.tui === true); // the TUI owns fd 1 when on
      const proxy = await startForward(config, { log });
      const live = {
        purgeCache: (plan: PurgePlan) => proxy.purgeCache(plan),
        inFlight: () => proxy.stats().inFlight, openTunnels: () => proxy.stats().tunnels, rejections: () => proxy.rejections(),
      };
      const observers = isClusterWorker()
        ? workerObservers(proxy.bus, config, live)
        : await startObservers(proxy.bus, config, {
        mode: 'forward', version: VERSION, log, ...live,
        ...(tuiFd === undefined ? {} : { stdoutFd: tuiFd }),
      }).catch(async (err: unknown) => {
        await proxy.close(0); // e.g. the admin port is taken: exit 1 instead of a proxy nobody can stop cleanly
        throw err;
      });
      // SIGHUP reloads the rules of a daemon; under --tui it means the terminal went away (runForwardTui stops then).
      if (!flags.tui) process.on('SIGHUP', () => void proxy.reloadPolicy());
      const stop = async (): Promise<void> => {
        await proxy.close();
        await observers.close(); // flushes the access log: SIGTERM loses no line
      };
      if (flags.tui) {
        return runForwardTui({ bus: proxy.bus, proxyUrl: proxy.url, gauges: () => proxy.stats(), version: VERSION, log, stop });
      }
      await runUntilSignal(log, stop, () => {
        if (isClusterWorker()) reportReady(proxy.url); // the primary prints the ready line once every worker listens
        else process.stdout.write(`portico forward listening on ${proxy.url}\n`);
        if (observers.admin) process.stdout.write(`portico admin on ${observers.admin.url}\n`);
        if (config.mitm.enabled) log.info({ certs: config.certs }, 'TLS interception on');
      });
    });
}

export { ConfigError };
