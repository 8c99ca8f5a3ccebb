import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import type { EventBus } from '../core/events.js';
import type { PolicyOptions } from '../policy/compile.js';
import { LISTS_DIR, loadPolicy } from '../policy/load.js';
import type { Policy } from '../policy/model.js';
import type { PolicySource } from './policy.js';

export interface PolicySourceConfig {
  readonly dir: string;
  readonly options: PolicyOptions;
  /** Watch the folder and reload on change (SIGHUP reloads either way). */
  readonly watch: boolean;
  /** Changes closer together than this are one reload (editors write files in several steps). */
  readonly debounceMs: number;
}

export interface ReloadablePolicy extends PolicySource {
  /** Builds the new policy fully, then swaps one reference; a broken file keeps the old one. True on success. */
  reload(reason: string): Promise<boolean>;
  close(): void;
}

/**
 * Loads the rules folder at start (a broken file is a startup error: ConfigError, exit 2) and keeps the good policy
 * in one reference. Reloads (file watch, SIGHUP) never leave a half-loaded policy in force.
 */
export async function createPolicySource(cfg: PolicySourceConfig, deps: { log: Logger; bus: EventBus }): Promise<ReloadablePolicy> {
  let policy: Policy;
  try {
    const loaded = await loadPolicy(cfg.dir, cfg.options);
    for (const note of loaded.notes) deps.log.info(note);
    policy = loaded.policy;
  } catch (err) {
    throw new ConfigError(`policy: ${err instanceof Error ? err.message : String(err)}`);
  }
  logLoaded(deps.log, policy, 'start');
  let running: Promise<boolean> | undefined;
  let again = false;
  const reloadOnce = async (reason: string): Promise<boolean> => {
    try {
      const loaded = await loadPolicy(cfg.dir, cfg.options);
      for (const note of loaded.notes) deps.log.info(note);
      policy = loaded.policy;
      logLoaded(deps.log, policy, reason);
      deps.bus.emit({ type: 'config.reload', ok: true });
      return true;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      deps.log.error({ reason, error }, 'policy reload failed; the previous rules stay in force');
      deps.bus.emit({ type: 'config.reload', ok: false, error });
      return false;
    }
  };
  /**
   * One reload at a time. A call that arrives during one asks for one more pass and waits for the whole run,
   * that pass included: its caller (SIGHUP after an edit) is answered only once files as they are now are in force.
   */
  const reload = (reason: string): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        let ok = await reloadOnce(reason);
        while (again) {
          again = false;
          ok = await reloadOnce(reason);
        }
        return ok;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const stopWatching = cfg.watch ? watchFolder(cfg, deps.log, (reason) => void reload(reason)) : () => {};
  return { current: () => policy, reload, close: stopWatching };
}

function logLoaded(log: Logger, policy: Policy, reason: string): void {
  const domains = [...policy.categories.values()].reduce((n, c) => n + c.size, 0);
  log.info({ reason, rules: policy.rules.length, categories: [...policy.categories.keys()], domains }, 'policy loaded');
}

/** fs.watch on the folder and its lists/ (not recursive: Linux needs one watcher per folder), debounced. */
function watchFolder(cfg: PolicySourceConfig, log: Logger, onChange: (reason: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const changed = (_event: string, name: string | Buffer | null): void => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(`file change${name ? ` (${String(name)})` : ''}`), cfg.debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of [cfg.dir, join(cfg.dir, LISTS_DIR)]) {
    if (!existsSync(dir)) continue;
    try {
      const w = watch(dir, { persistent: false }, changed);
      w.on('error', (err) => log.warn({ dir, err: err.message }, 'policy folder watch failed; SIGHUP still reloads'));
      watchers.push(w);
    } catch (err) {
      log.warn({ dir, err: (err as Error).message }, 'cannot watch the policy folder; SIGHUP still reloads');
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
