import { Box, Text } from 'ink';
import type { BackendRow } from '../backends.js';

const color = (state: string): 'green' | 'red' | 'yellow' | 'gray' =>
  state === 'up' ? 'green' : state === 'down' || state === 'ejected' ? 'red' : state === 'draining' ? 'yellow' : 'gray';

/** L7/L4 pool members: state, active connections, latency EWMA and the latest health transitions. */
export function BackendsView({ rows, height }: { rows: BackendRow[]; height: number }): React.JSX.Element {
  if (rows.length === 0) {
    return (
      <Box flexDirection="column" height={height + 1}>
        <Text bold>Backends</Text>
        <Text dimColor>no backend pools: they appear once a reverse/L7 or L4 mode runs with health checks</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={height + 1}>
      <Text bold>Backends</Text>
      {rows.slice(0, height).map((b) => (
        <Text key={`${b.pool}/${b.backend}`} wrap="truncate" color={color(b.state)}>
          {`${b.pool.padEnd(16)} ${b.backend.padEnd(24)} ${b.state.padEnd(9)} active ${String(b.active ?? '-').padStart(4)}`
            + `  ewma ${b.ewmaMs === undefined ? '-' : `${b.ewmaMs.toFixed(1)}ms`}  ${b.reason ?? ''}  ${b.history.join(' → ')}`}
        </Text>
      ))}
    </Box>
  );
}
