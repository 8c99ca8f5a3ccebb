import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { render } from 'ink';
import { systemClock, type Clock } from '../core/clock.js';
import type { FlowRecord } from '../core/flow.js';
import { toHar } from '../observe/har.js';
import { App } from './components/App.js';
import { TuiController, type TuiActions } from './controller.js';
import { writeCurlFile, curlCommand } from './curl.js';
import type { Entry } from './entry.js';
import { replay } from './replay.js';
import type { FlowSource } from './source.js';
import { DEFAULT_CAPACITY, FlowStore } from './store.js';

export interface TuiOptions {
  source: FlowSource;
  /** The proxy to replay through and to name in curl commands. */
  proxyUrl?: string;
  clock?: Clock;
  capacity?: number;
  /** Where curl scripts and HAR files are written (default: the working directory). */
  dir?: string;
  version?: string;
}

export interface RunningTui {
  readonly store: FlowStore;
  /** Resolves when the user quits (q, Ctrl-C) or close() is called. */
  waitUntilExit(): Promise<void>;
  close(): void;
}

/** Tunnels carry no HTTP request: HAR gets the HTTP flows only. */
const httpFlows = (entries: Entry[]): FlowRecord[] => entries.filter((e) => e.kind === 'flow').map((e) => e.flow);

/** Files and network for the keys (x, w, r). */
export function defaultActions(opts: TuiOptions, clock: Clock, quit: () => void): TuiActions {
  const dir = opts.dir ?? process.cwd();
  return {
    async writeCurl(e: Entry) {
      return { command: curlCommand(e, opts.proxyUrl), path: await writeCurlFile(dir, e, opts.proxyUrl) };
    },
    async saveHar(entries: Entry[]) {
      const path = join(dir, `portico-flows-${new Date(clock.now()).toISOString().replace(/[:.]/g, '-')}.har`);
      await writeFile(path, JSON.stringify(toHar(httpFlows(entries), opts.version ?? '0.0.0'), null, 1));
      return path;
    },
    replay: (e: Entry) => replay(e, opts.proxyUrl),
    quit,
  };
}

/** Starts the Ink app on the terminal, fed by the source into a bounded store. */
export function startTui(opts: TuiOptions): RunningTui {
  const clock = opts.clock ?? systemClock;
  const store = new FlowStore({ clock, capacity: opts.capacity ?? DEFAULT_CAPACITY });
  let exit = (): void => {};
  const controller = new TuiController(store, opts.source, defaultActions(opts, clock, () => exit()));
  opts.source.start((event) => store.add(event));
  const ink = render(<App store={store} source={opts.source} controller={controller} />, { exitOnCtrlC: true });
  exit = () => ink.unmount();
  const done = ink.waitUntilExit().then(() => undefined, () => undefined).finally(() => opts.source.close());
  return { store, waitUntilExit: () => done, close: () => ink.unmount() };
}
