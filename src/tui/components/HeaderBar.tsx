import { Box, Text } from 'ink';
import type { CounterSnapshot } from '../counters.js';
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
}

/** Top line: where flows come from, rates and totals; second line: pause and filter state. */
export function HeaderBar(p: HeaderBarProps): React.JSX.Element {
  const c = p.counters;
  const hit = c.hitRatio === undefined ? '-' : `${Math.round(c.hitRatio * 100)}%`;
  const line = `portico · ${p.source} (${p.status})  ${c.reqPerSec.toFixed(1)} req/s  ${humanBytes(Math.round(c.bytesPerSec))}/s`
    + `  hit ${hit}  blocked ${c.blocked}  errors ${c.errors}  tunnels ${c.openTunnels}  dropped ${c.dropped}`;
  const state = `${p.paused ? `PAUSED (+${p.buffered} buffered)  ` : ''}flows ${p.shown}/${p.size}`
    + (p.filter ? `  filter: ${p.filter}` : '');
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" bold>{line}</Text>
      <Text wrap="truncate" color={p.paused ? 'yellow' : undefined}>{state}</Text>
    </Box>
  );
}
