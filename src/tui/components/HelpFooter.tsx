import { Box, Text } from 'ink';
import { helpLine, KEYMAP, type Scope } from '../keymap.js';

export interface HelpFooterProps {
  scope: Scope;
  editing: boolean;
  draft: string;
  error: { message: string; position: number } | undefined;
  message: string;
  /** Flows the draft would show, while it parses. */
  preview: number | undefined;
}

/** The bottom lines: the filter prompt while typing (with a caret under a parse error), else the generated key help. */
export function HelpFooter(p: HelpFooterProps): React.JSX.Element {
  if (p.editing) {
    return (
      <Box flexDirection="column">
        <Text wrap="truncate"> </Text>
        <Text wrap="truncate">{`filter: ${p.draft}▏  ${p.preview === undefined ? '' : `${p.preview} match  `}`
          + '(enter apply, esc cancel; ~d ~u ~c ~m ~t ~blocked ~hit ~e & | ! ( ))'}</Text>
        <Text wrap="truncate" color="red">
          {p.error ? `${' '.repeat(8 + p.error.position)}^ ${p.error.message} (at ${p.error.position})` : ' '}
        </Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" color="cyan">{p.message || ' '}</Text>
      <Box height={2}><Text wrap="wrap" dimColor>{helpLine(p.scope)}</Text></Box>
    </Box>
  );
}

const cell = (i: number): string => {
  const b = KEYMAP[i];
  return b ? `${b.keys.join(', ').padEnd(12)} ${b.help.padEnd(14)} ${b.scopes.join(', ').padEnd(24)}` : '';
};

/** The `?` screen: every binding with its screens, from the same table, in two columns. */
export function HelpScreen({ height }: { height: number }): React.JSX.Element {
  const half = Math.ceil(KEYMAP.length / 2);
  const lines = Array.from({ length: half }, (_, i) => `${cell(i)}  ${cell(i + half)}`);
  return (
    <Box flexDirection="column" height={height + 1}>
      <Text bold>Keys (filters: ~d host ~u url ~c 404|4xx ~m POST ~t tunnel|http ~blocked ~hit ~e, & | ! ( ))</Text>
      {lines.slice(0, height).map((l, i) => <Text key={i} wrap="truncate">{l}</Text>)}
    </Box>
  );
}
