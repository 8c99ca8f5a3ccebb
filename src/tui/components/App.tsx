import { Box, useInput, useStdout } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { TuiController } from '../controller.js';
import type { FlowSource } from '../source.js';
import type { FlowStore } from '../store.js';
import { BackendsView } from './BackendsView.js';
import { FlowDetail } from './FlowDetail.js';
import { FlowList } from './FlowList.js';
import { HeaderBar } from './HeaderBar.js';
import { HelpFooter, HelpScreen } from './HelpFooter.js';

export interface AppProps {
  store: FlowStore;
  source: FlowSource;
  controller: TuiController;
  /** Frame period: the screen is redrawn from the store at most this often (never per event). */
  frameMs?: number;
  /** Terminal size overrides (tests); default: the output stream's size. */
  rows?: number;
  columns?: number;
}

// header (2) + list header (1) + footer (message 1, help 2), and one spare line: Ink output as tall as the terminal
// scrolls it and garbles the redraw
const CHROME_ROWS = 7;

/** Redraws on a timer when the store or the screen state changed (and once a second for the rates). */
function useFrame(store: FlowStore, controller: TuiController, frameMs: number): void {
  const [, setFrame] = useState(0);
  const seen = useRef({ store: -1, ui: -1, at: 0 });
  useEffect(() => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
      controller.onFrame(ticks * frameMs);
      const s = seen.current;
      const stale = ticks * frameMs - s.at >= 1000;
      if (s.store === store.version && s.ui === controller.version && !stale) return;
      seen.current = { store: store.version, ui: controller.version, at: ticks * frameMs };
      setFrame(ticks);
    }, frameMs);
    return () => clearInterval(timer);
  }, [store, controller, frameMs]);
}

export function App({ store, source, controller, frameMs = 100, rows, columns }: AppProps): React.JSX.Element {
  const { stdout } = useStdout();
  const [, setKeys] = useState(0);
  const height = Math.max(3, (rows ?? stdout.rows ?? 24) - CHROME_ROWS);
  const width = Math.max(40, (columns ?? stdout.columns ?? 120) - 1);
  controller.pageRows = height;
  useFrame(store, controller, frameMs);
  useInput((input, key) => {
    controller.handleKey(input, key);
    setKeys((n) => n + 1); // a keystroke is rare: show its effect now, not at the next frame
  });
  const screen = controller.screen;
  const detail = controller.detail;
  return (
    <Box flexDirection="column" width={width + 1}>
      <HeaderBar counters={store.counters.snapshot()} source={source.label} status={source.status()} paused={store.paused}
        buffered={store.buffered} filter={store.filterText} shown={store.shownCount} size={store.size}
        gauges={source.gauges?.()} />
      {screen === 'detail' && detail ? <FlowDetail entry={detail} curl={controller.curlText} height={height} scroll={controller.detailScroll} />
        : screen === 'backends' ? <BackendsView rows={store.backends.list()} height={height} />
          : screen === 'help' ? <HelpScreen height={height} />
            : <FlowList window={store.window(height)} width={width} height={height} />}
      <HelpFooter scope={screen} editing={controller.editing} draft={controller.draft} error={controller.filterError}
        message={controller.message} preview={controller.previewCount} />
    </Box>
  );
}
