import { Box, Text } from 'ink';
import { curlRows, detailLines } from '../detail.js';
import type { Entry } from '../entry.js';

export interface FlowDetailProps { entry: Entry; curl: string | undefined; height: number; scroll: number }

/**
 * One flow: request line, timings, cache, policy rule, what anonymization changed, captured headers, a curl line.
 * The first line stays; the rest scrolls (j/k) when the headers do not fit.
 */
export function FlowDetail({ entry, curl, height, scroll }: FlowDetailProps): React.JSX.Element {
  const [first = '', ...rest] = detailLines(entry);
  const room = Math.max(1, height - curlRows(curl));
  const top = Math.max(0, Math.min(scroll, rest.length - room));
  const more = rest.length - top - room;
  const shown = rest.slice(top, top + room);
  if (more > 0) shown[shown.length - 1] = `… ${more + 1} more lines (j/k scroll)`;
  return (
    <Box flexDirection="column" height={height + 1}>
      <Text wrap="truncate" bold>{first}</Text>
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate">{l}</Text>
      ))}
      {curl ? <Text wrap="wrap" color="green">{curl}</Text> : null}
    </Box>
  );
}
