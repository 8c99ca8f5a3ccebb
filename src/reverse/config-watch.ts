import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/**
 * Calls `onChange` once per burst of changes to `file` (editors write in several steps). The folder is watched, not
 * the file, so an editor that saves by writing a new file and renaming it over the old one is still seen.
 */
export function watchConfigFile(file: string, debounceMs: number, onChange: () => void, log: Logger): () => void {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && String(changed) !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    watcher.on('error', (err) => log.warn({ file, err: err.message }, 'config file watch failed; SIGHUP still reloads'));
  } catch (err) {
    log.warn({ file, err: (err as Error).message }, 'cannot watch the config file; SIGHUP still reloads');
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
