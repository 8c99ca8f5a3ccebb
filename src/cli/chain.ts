import { createRequire } from 'node:module';
import { Command } from 'commander';
import { mergeConfig, readConfigFile, validateConfig, type PlainObject } from '../config/load.js';
import { chainConfigSchema, type ChainConfig } from '../chain/config.js';
import { defaultChainConfig, tryThis } from '../chain/defaults.js';
import { startChain, type Chain } from '../chain/start.js';
import { systemClock } from '../core/clock.js';
import { startObservers } from '../observe/observers.js';
import { runUntilSignal } from './signals.js';
import { processLogger, runForwardTui, TUI_LOG_FILE } from './tui.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

interface ChainFlags { config?: string; admin?: string; adminToken?: string; logLevel?: string; tui?: boolean }

export function loadChainConfig(flags: ChainFlags): ChainConfig {
  const base = flags.config === undefined ? defaultChainConfig() : readConfigFile(flags.config);
  const over: PlainObject = {};
  if (flags.logLevel !== undefined) over.log = { level: flags.logLevel };
  const admin: PlainObject = {};
  if (flags.admin !== undefined) admin.listen = flags.admin;
  if (flags.adminToken !== undefined) admin.token = flags.adminToken;
  if (Object.keys(admin).length > 0) over.admin = admin;
  return validateConfig(chainConfigSchema, mergeConfig(base, over), flags.config ?? 'built-in chain');
}

function readyLines(chain: Chain): string[] {
  return [
    ...chain.backends.map((b) => `portico demo-backend listening on ${b.url} (${b.id})`),
    ...(chain.reverse ? [`portico reverse listening on ${chain.reverse.url}`] : []),
    `portico forward listening on ${chain.forward.url}`,
    ...(chain.l4 ? chain.l4.urls().map((u) => `portico l4 listening on ${u}`) : []),
  ];
}

/** `portico chain [--config chain.yaml]`: forward → reverse → demo backends in one process, on one event bus. */
export function chainCommand(): Command {
  return new Command('chain')
    .description('run a forward proxy routed to a reverse proxy over demo backends, in one process (built-in demo without --config)')
    .option('-c, --config <file>', 'chain.yaml: forward, reverse, demoBackends, rules, log, admin (default: the built-in demo)')
    .option('--admin <host:port>', 'one admin endpoint for every hop (metrics, flows, events)')
    .option('--admin-token <token>', 'require Authorization: Bearer TOKEN on the admin endpoint')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--tui', `show every hop's flows in a terminal UI; logs then go to ./${TUI_LOG_FILE}`)
    .action(async (flags: ChainFlags) => {
      const config = loadChainConfig(flags);
      const { log, tuiFd } = processLogger(config.log.level, flags.tui === true); // the TUI owns fd 1 when on
      const chain = await startChain(config, { log });
      const { forward, reverse } = chain;
      const gauges = (): { inFlight: number; tunnels: number } => ({
        inFlight: forward.stats().inFlight + (reverse?.stats().inFlight ?? 0) + (chain.l4?.active() ?? 0), tunnels: forward.stats().tunnels,
      });
      const observers = await startObservers(chain.bus, config, {
        mode: 'chain', version: VERSION, log, purgeCache: (plan) => forward.purgeCache(plan),
        inFlight: () => gauges().inFlight, openTunnels: () => gauges().tunnels,
        upstreams: () => [
          ...(reverse ? [...reverse.pools().values()].map((p) => p.snapshot(systemClock.monotonic())) : []),
          ...(chain.l4 ? chain.l4.snapshot() : []),
        ],
        ...(tuiFd === undefined ? {} : { stdoutFd: tuiFd }),
      }).catch(async (err: unknown) => {
        await chain.close();
        throw err;
      });
      chain.bus.subscribe((e) => {
        if (e.type === 'backend.health') log.warn({ pool: e.pool, backend: e.backend, state: e.state, reason: e.reason }, 'backend health');
      }, { types: ['backend.health'] });
      const stop = async (): Promise<void> => {
        await chain.close();
        await observers.close();
      };
      if (flags.tui) return runForwardTui({ bus: chain.bus, mode: 'chain', proxyUrl: forward.url, gauges, version: VERSION, log, stop });
      await runUntilSignal(log, stop, () => {
        for (const line of readyLines(chain)) process.stdout.write(`${line}\n`);
        if (observers.admin) process.stdout.write(`portico admin on ${observers.admin.url}\n`);
        process.stdout.write(`${tryThis(forward.url, chain.backends[0]?.url)}\n`);
      });
    });
}
