import pino, { type Logger } from 'pino';
import { degradeOnError } from './degrade.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The process logger: JSON lines through sonic-boom's asynchronous destination (never a synchronous write per
 * line on the data path). Access-log lines do not go through it (observe/access-log/). Header values are scrubbed
 * before a flow record exists (core/record-headers.ts); `redact` here is only a second net for ad-hoc objects.
 */
export function createLogger(level: LogLevel, fd = 1): Logger {
  const destination = pino.destination({ fd, sync: false, minLength: 4096 });
  degradeOnError(destination, (err) => {
    process.stderr.write(`portico: the process log (fd ${fd}) failed: ${err.message}; its lines are dropped from now on\n`);
  });
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.headers.authorization', '*.headers["proxy-authorization"]', '*.headers.cookie', '*.headers["set-cookie"]'], censor: '[REDACTED]' },
    },
    destination,
  );
}

export function flushLogger(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}
