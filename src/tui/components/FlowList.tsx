import { Box, Text } from 'ink';
import { formatRow, headerRow, rowColor } from '../format.js';
import type { ViewWindow } from '../store.js';

export interface FlowListProps { window: ViewWindow; width: number; height: number }

/** The visible window only: one pre-formatted, truncated <Text> per row; the selection is marked with "›". */
export function FlowList({ window, width, height }: FlowListProps): React.JSX.Element {
  return (
    <Box flexDirection="column" height={height + 1}>
      <Text wrap="truncate" dimColor>{headerRow(width)}</Text>
      {window.rows.length === 0 ? <Text dimColor>no flows yet: send requests through the proxy</Text> : null}
      {window.rows.map((e, i) => (
        <Text key={e.seq} wrap="truncate" color={rowColor(e)} inverse={i === window.cursor}>
          {formatRow(e, width, i === window.cursor)}
        </Text>
      ))}
    </Box>
  );
}
