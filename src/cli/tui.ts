import { openSync } from 'node:fs';
import { Command } from 'commander';
import type { Logger } from 'pino';
import type { EventBus } from '../core/events.js';
import { captureConsole } from '../observe/console-capture.js';
import { createLogger, flushLogger, type LogLevel } from '../observe/logger.js';
import { busSource, type Gauges } from '../tui/source.js';
import { SseSource } from '../tui/sse-source.js';

/** Where the process log and the access log go while the TUI owns the terminal (never fd 1). */
export const TUI_LOG_FILE = 'portico.log';

/**
 * Ink and React load only when a TUI starts (plain `forward` never pays for them), in React's production build:
 * the development build's checks cost CPU on every frame.
 */
async function loadTui(): Promise<typeof import('../tui/run.js')> {
  process.env.NODE_ENV ??= 'production';
  // Ink draws only the final frame when it believes it runs in CI (is-in-ci reads CI / CONTINUOUS_INTEGRATION when
  // Ink is first imported). The TUI starts only on a real terminal (assertTerminal), where a user asked for it
  // explicitly, so it must draw live even in a shell that exports CI=true (found by CI's own tmux e2e run).
  for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = 'false';
  return import('../tui/run.js');
}

/** The TUI reads keys in raw mode: refuse early, with a clear message, when there is no terminal. */
export function assertTerminal(): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new Error('the TUI needs a terminal (stdin and stdout must be TTYs)');
}

/** Opens ./portico.log for appending (0600: flows name clients and URLs) and returns its fd. */
export function openTuiLog(path = TUI_LOG_FILE): number {
  return openSync(path, 'a', 0o600);
}

/**
 * The process logger of a serving command. With the TUI (which owns fd 1 and needs a terminal) the log goes to
 * ./portico.log, whose fd is returned for the access log too; without it, stdout. Either way a library's console
 * output is captured into it, so it lands neither in the JSON access log on stdout nor on the TUI's screen.
 */
export function processLogger(level: LogLevel, tui: boolean): { log: Logger; tuiFd: number | undefined } {
  if (tui) assertTerminal();
  const tuiFd = tui ? openTuiLog() : undefined;
  const log = createLogger(level, tuiFd);
  captureConsole(log);
  return { log, tuiFd };
}

export interface ForwardTuiOptions {
  bus: EventBus;
  /** Shown in the header with the URL (default forward); reverse and L4 pass their own. */
  mode?: string;
  proxyUrl: string;
  gauges: () => Gauges;
  version: string;
  log: Logger;
  /** Stops the proxy and its observers (flushes the access log). */
  stop(): Promise<void>;
}

/**
 * `forward --tui` (and any mode's `--tui`): the TUI in-process on the mode's bus; q, Ctrl-C or SIGTERM stop the
 * mode gracefully through `stop`, then the log is flushed and the process exits 0.
 */
export async function runForwardTui(o: ForwardTuiOptions): Promise<void> {
  const { startTui } = await loadTui();
  const tui = startTui({ source: busSource(o.bus, { label: `${o.mode ?? 'forward'} ${o.proxyUrl}`, gauges: o.gauges }), proxyUrl: o.proxyUrl, version: o.version });
  const onSignal = (): void => tui.close();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.once('SIGHUP', onSignal); // the terminal closed (ssh dropped, tmux killed): stop, don't run on headless
  await tui.waitUntilExit();
  o.log.info('TUI closed, shutting down');
  await o.stop().catch((err: unknown) => o.log.error({ err }, 'error during shutdown'));
  await flushLogger(o.log);
  process.exit(0);
}

interface TuiFlags { connect: string; token?: string; proxy?: string; backfill?: string }

/** `portico tui --connect URL`: attach to a running instance (any mode) over its admin endpoint. */
export function tuiCommand(version: string): Command {
  return new Command('tui')
    .description('attach the terminal UI to a running Portico over its admin endpoint (GET /events, /flows, /upstreams)')
    .requiredOption('--connect <url>', 'admin endpoint, e.g. http://127.0.0.1:9090')
    .option('--token <token>', 'admin bearer token (or PORTICO_ADMIN_TOKEN)')
    .option('--proxy <url>', 'the proxy to replay through (r) and to name in curl commands (x)')
    .option('--backfill <n>', 'recent flows to load first from GET /flows (default 1000)')
    .action(async (flags: TuiFlags) => {
      const url = new URL(flags.connect);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--connect wants an http(s) URL, not ${flags.connect}`);
      assertTerminal();
      const token = flags.token ?? process.env.PORTICO_ADMIN_TOKEN;
      const backfill = flags.backfill === undefined ? 1000 : Number(flags.backfill);
      if (!Number.isInteger(backfill) || backfill < 0) throw new Error(`--backfill wants a count, not ${flags.backfill}`);
      const source = new SseSource({ url: url.href, backfill, ...(token ? { token } : {}) });
      const { startTui } = await loadTui();
      const tui = startTui({ source, version, ...(flags.proxy ? { proxyUrl: flags.proxy } : {}) });
      await tui.waitUntilExit();
      process.exit(0);
    });
}
