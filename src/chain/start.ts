import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { ConfigError, mergeConfig, validateConfig, type PlainObject } from '../config/load.js';
import { forwardConfigSchema, type ForwardConfig } from '../config/schema.js';
import { createEventBus, type EventBus } from '../core/events.js';
import { startDemoBackend, type DemoBackend } from '../demo/backend.js';
import { startForward, type ForwardProxy } from '../forward/server.js';
import { l4ConfigSchema, type L4Config } from '../l4/config.js';
import { startL4, type L4Balancer } from '../l4/server.js';
import { reverseConfigSchema, type ReverseConfig } from '../reverse/config.js';
import { startReverse, type ReverseProxy } from '../reverse/server.js';
import type { ChainConfig } from './config.js';
import { ChainResolveError, resolveForward, resolveL4, resolveReverse, type ChainAddresses } from './resolve.js';

export interface Chain {
  readonly bus: EventBus;
  readonly forward: ForwardProxy;
  readonly reverse: ReverseProxy | undefined;
  readonly backends: readonly DemoBackend[];
  readonly l4: L4Balancer | undefined;
  /** Stops the L4 balancer and the forward proxy first (no new requests enter), then the reverse proxy, then the backends. */
  close(): Promise<void>;
}

/**
 * Both proxies add Via and refuse a request that already carries their own pseudonym (loop detection): in one chain
 * the reverse proxy needs a name of its own, or every routed request would look like a loop (508).
 */
const REVERSE_DEFAULTS: PlainObject = { via: { pseudonym: 'portico-reverse' } };

/** Addresses that only serve to validate the sub-configurations before anything listens. */
function dryAddresses(config: ChainConfig): ChainAddresses {
  return {
    reverse: config.reverse ? '127.0.0.1:1' : undefined, forward: '127.0.0.1:1',
    demo: new Map(config.demoBackends.map((b) => [b.id, '127.0.0.1:1'])),
  };
}

interface SubConfigs { forward: ForwardConfig; reverse: ReverseConfig | undefined; l4: L4Config | undefined }

function subConfigs(config: ChainConfig, at: ChainAddresses, rulesDir: string | undefined): SubConfigs {
  const shared: PlainObject = { log: config.log };
  try {
    let fwd = mergeConfig(resolveForward(config.forward, at), shared);
    if (rulesDir !== undefined) fwd = mergeConfig(fwd, { policy: { rules: rulesDir, watch: false } });
    const forward = validateConfig(forwardConfigSchema, fwd, 'chain forward');
    const reverse = config.reverse === undefined ? undefined
      : validateConfig(reverseConfigSchema, mergeConfig(mergeConfig(REVERSE_DEFAULTS, resolveReverse(config.reverse, at)), shared), 'chain reverse');
    const l4 = config.l4 === undefined ? undefined
      : validateConfig(l4ConfigSchema, mergeConfig(resolveL4(config.l4, at), shared), 'chain l4');
    return { forward, reverse, l4 };
  } catch (err) {
    if (err instanceof ChainResolveError) throw new ConfigError(err.message);
    throw err;
  }
}

/**
 * Starts a whole chain on one bus: demo backends, then the reverse proxy over them, then the forward proxy routing to
 * it. Both sub-configurations are validated (with placeholder addresses) before anything listens, so a bad file
 * starts nothing; a failure halfway closes what was started.
 */
export async function startChain(config: ChainConfig, deps: { log: Logger }): Promise<Chain> {
  const rulesDir = config.rules === undefined ? undefined : await writeRules(config.rules);
  const started: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of started.splice(0).reverse()) await stop().catch((err: unknown) => deps.log.error({ err }, 'chain: stop failed'));
    if (rulesDir !== undefined) await rm(rulesDir, { recursive: true, force: true });
  };
  try {
    subConfigs(config, dryAddresses(config), rulesDir);
    const bus = createEventBus((err) => deps.log.error({ err }, 'event subscriber failed'));
    const backends: DemoBackend[] = [];
    for (const b of config.demoBackends) {
      const backend = await startDemoBackend({ id: b.id, ...b.listen });
      started.push(() => backend.close());
      backends.push(backend);
    }
    const demo = new Map(backends.map((b) => [b.id, b.address]));
    const { reverse: reverseConfig } = subConfigs(config, { ...dryAddresses(config), demo }, rulesDir);
    const reverse = reverseConfig === undefined ? undefined : await startReverse(reverseConfig, { log: deps.log, bus });
    if (reverse) started.push(() => reverse.close());
    const reverseAddress = reverse === undefined ? undefined : new URL(reverse.url).host;
    const { forward: forwardConfig } = subConfigs(config, { ...dryAddresses(config), reverse: reverseAddress, demo }, rulesDir);
    const forward = await startForward(forwardConfig, { log: deps.log, bus });
    started.push(() => forward.close());
    const { l4: l4Config } = subConfigs(config, { reverse: reverseAddress, forward: new URL(forward.url).host, demo }, rulesDir);
    const l4 = l4Config === undefined ? undefined : await startL4(l4Config, { log: deps.log, bus });
    if (l4) started.push(() => l4.close());
    return { bus, forward, reverse, backends, l4, close: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The chain's inline rules as a rules folder of one file (0700 folder, removed when the chain stops). */
async function writeRules(rules: PlainObject): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-chain-rules-'));
  await writeFile(join(dir, 'chain.yaml'), stringify(rules), { mode: 0o600 });
  return dir;
}
