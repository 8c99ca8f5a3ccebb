import type { Logger } from 'pino';
import type { ForwardConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { Stage } from '../core/stage.js';
import { policyOptions } from '../policy/compile.js';
import { anonymizeStage } from '../stages/anonymize.js';
import { connectPolicy, policyStage } from '../stages/policy.js';
import { createPolicySource, type ReloadablePolicy } from '../stages/policy-source.js';
import type { ConnectPolicy } from './connect.js';

export interface ContentPolicy {
  readonly source: ReloadablePolicy;
  /** policy ▶ anonymize, in DESIGN order (before the cache and forwarded stages). */
  readonly stages: Stage[];
  readonly connect: ConnectPolicy;
}

/** Issue 3 wiring for the forward mode: loads the rules folder (startup error if broken) and builds its stages. */
export async function createContentPolicy(config: ForwardConfig, deps: { log: Logger; bus: EventBus; clock: Clock }): Promise<ContentPolicy> {
  const p = config.policy;
  const source = await createPolicySource({
    dir: p.rules, watch: p.watch, debounceMs: p.reloadDebounceMs,
    options: policyOptions(p),
  }, deps);
  const anonymize = anonymizeStage(config.anonymize, { pseudonym: config.via.pseudonym, policy: source });
  return { source, stages: [policyStage(source), anonymize], connect: connectPolicy(source, deps) };
}
