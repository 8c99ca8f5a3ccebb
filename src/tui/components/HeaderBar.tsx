import { Box, Text } from 'ink';
import type { CounterSnapshot } from '../counters.js';
import type { Gauges } from '../source.js';
import { humanBytes } from '../format.js';

export interface HeaderBarProps {
  counters: CounterSnapshot;
  source: string;
  status: string;
  paused: boolean;
  buffered: number;
  filter: string;
  shown: number;
  size: number;
  /** The mode's live gauges when in-process; otherwise tunnels are counted from the flows seen. */
  gauges: Gauges | undefined;
}

/** Top line: where flows come from, rates and totals; second line: pause and filter state. */
export function HeaderBar(p: HeaderBarProps): React.JSX.Element {
  const c = p.counters;
  const hit = c.hitRatio === undefined ? '-' : `${Math.round(c.hitRatio * 100)}%`;
  const line = `portico · ${p.source} (${p.status})  ${c.reqPerSec.toFixed(1)} req/s  ${humanBytes(Math.round(c.bytesPerSec))}/s`
    + `  hit ${hit}  blocked ${c.blocked}  errors ${c.errors}  `
    + (p.gauges ? `in-flight ${p.gauges.inFlight}  tunnels ${p.gauges.tunnels}` : `tunnels ${c.openTunnels}`) + `  dropped ${c.dropped}`;
  const state = `${p.paused ? `PAUSED (+${p.buffered} buffered)  ` : ''}flows ${p.shown}/${p.size}`
    + (p.filter ? `  filter: ${p.filter}` : '');
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" bold>{line}</Text>
      <Text wrap="truncate" color={p.paused ? 'yellow' : undefined}>{state}</Text>
    </Box>
  );
}
