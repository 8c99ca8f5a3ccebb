/* eslint-disable no-console -- this module replaces the console's methods, which is its whole job */
import { format } from 'node:util';
import type { Logger } from 'pino';

/** A library line longer than this is cut (a stack trace per reconnect attempt must not flood the log). */
const MAX_TEXT = 4096;

const METHODS = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const;
type Method = (typeof METHODS)[number];

/**
 * Sends what dependencies print with `console.*` to the process log (pino, structured) instead of stdout. stdout
 * carries the JSON access log by default and belongs to the terminal UI under `--tui`, so a library's own console
 * output corrupts both: @redis/client's Sentinel client, for one, `console.log`s an Error with its stack on every
 * failed reconnect (once a second while no sentinel answers). Each call becomes one `warn` line (`error` for
 * console.error) with the formatted text under `console`. Returns a function that puts the originals back (tests).
 */
export function captureConsole(log: Logger): () => void {
  const original = new Map<Method, (...args: unknown[]) => void>();
  for (const m of METHODS) {
    original.set(m, console[m]);
    const level = m === 'error' ? 'error' : 'warn';
    console[m] = (...args: unknown[]): void => {
      const text = format(...args);
      log[level]({ console: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text }, 'a library wrote to the console');
    };
  }
  return () => { for (const [m, fn] of original) console[m] = fn; };
}
