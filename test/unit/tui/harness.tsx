import { render } from 'ink-testing-library';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '../../../src/tui/components/App.js';
import { TuiController, type TuiActions } from '../../../src/tui/controller.js';
import type { Entry } from '../../../src/tui/entry.js';
import type { FlowSource } from '../../../src/tui/source.js';
import { FlowStore } from '../../../src/tui/store.js';
import { fakeClock } from './fixtures.js';

export const keys = { down: '\u001B[B', up: '\u001B[A', enter: '\r', esc: '\u001B', backspace: '\u007F' };

export interface Harness {
  store: FlowStore;
  controller: TuiController;
  calls: string[];
  frame(): string;
  /** Frames Ink has written so far. */
  frameCount(): number;
  type(input: string): Promise<void>;
  tick(): Promise<void>;
  /**
   * Ticks until the screen satisfies `ok` (at most `timeoutMs`) and returns that frame, or the last one for the
   * caller's expect to fail on. What timers draw (the frame timer, which an effect starts after mount; refreshes
   * counted in frame ticks) can take far longer than one tick on a busy machine; a key's own redraw does not.
   */
  until(ok: (frame: string) => boolean, timeoutMs?: number): Promise<string>;
  unmount(): void;
}

export function mount(source: Partial<FlowSource> = {}, frameMs = 5, real: Partial<TuiActions> = {}): Harness {
  const store = new FlowStore({ clock: fakeClock() });
  const calls: string[] = [];
  const actions: TuiActions = {
    writeCurl: async (e: Entry) => { calls.push(`curl ${e.flow.id}`); return { command: `curl ${e.flow.url}`, path: `/tmp/portico-flow-${e.flow.id}.sh` }; },
    saveHar: async (entries) => { calls.push(`har ${entries.length}`); return '/tmp/x.har'; },
    replay: async (e) => { calls.push(`replay ${e.flow.id}`); return { ok: true, text: `replayed ${e.flow.url}: 200` }; },
    quit: () => calls.push('quit'),
    ...real,
  };
  const src: FlowSource = { label: 'test', start: () => {}, status: () => 'live', close: () => {}, ...source };
  const controller = new TuiController(store, src, actions);
  const ui = render(<App store={store} source={src} controller={controller} frameMs={frameMs} rows={20} columns={140} />);
  const tick = (): Promise<void> => sleep(30);
  return {
    store, controller, calls, tick,
    frame: () => ui.lastFrame() ?? '',
    frameCount: () => ui.frames.length,
    async type(input) {
      const seen = controller.version;
      ui.stdin.write(input);
      // A lone ESC reaches the app on a later turn (Ink first waits for the rest of a possible sequence), and one still
      // pending when the next key is written merges with it into Alt+key: wait until the app has had the key.
      for (const end = Date.now() + 5000; controller.version === seen && Date.now() < end;) await sleep(5);
      await tick();
    },
    async until(ok, timeoutMs = 5000) {
      for (const end = Date.now() + timeoutMs; !ok(ui.lastFrame() ?? '') && Date.now() < end;) await tick();
      return ui.lastFrame() ?? '';
    },
    unmount: () => ui.unmount(),
  };
}
