import type { Logger } from 'pino';
import { flushLogger } from '../observe/logger.js';

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight exchanges finish (the mode's grace), flush logs, exit 0.
 * A second signal exits at once. `ready` (the ready line, or the worker's report to its primary) runs once the
 * handlers are set: a SIGTERM sent as soon as that line is read must not meet the default action (death).
 */
export function runUntilSignal(log: Logger, stop: () => Promise<void>, ready: () => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info({ signal }, 'shutting down');
      stop()
        .catch((err: unknown) => log.error({ err }, 'error during shutdown'))
        .then(() => flushLogger(log))
        .then(() => {
          process.exitCode = 0;
          resolve();
          process.exit(0);
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    ready();
  });
}
