import { Box, Text } from 'ink';
import type { Entry } from '../entry.js';
import { humanBytes, humanMs } from '../format.js';

function detailLines(e: Entry): string[] {
  const f = e.flow;
  const n = f.notes;
  const lines = [
    `${f.method} ${f.url}  →  ${f.status ?? (e.kind === 'tunnel' ? 'tunnel' : '-')}`,
    `id ${f.id}  mode ${f.mode}  client ${f.client}${f.user ? ` (${f.user})` : ''}  HTTP/${f.version}  at ${f.time}`,
    `bytes in ${humanBytes(f.bytesIn)}  out ${humanBytes(f.bytesOut)}  cache ${n.cache ?? '-'}  upstream ${n.backend ?? n.upstream ?? '-'}`
      + `${n.pool ? `  pool ${n.pool}` : ''}${n.intercepted ? '  intercepted' : ''}`,
    `timings: first byte ${humanMs(f.timings.firstByte)}  total ${humanMs(f.timings.total)}`,
    n.policy
      ? `policy: ${n.policy.action}${n.policy.reportOnly ? ' (report only)' : ''} by rule ${n.policy.rule}${n.policy.source ? ` (${n.policy.source})` : ''}`
        + `${n.policy.category ? `  category ${n.policy.category}` : ''}`
      : 'policy: -',
  ];
  if (n.policy?.explain) lines.push(`  why: ${n.policy.explain}`);
  lines.push(`origin saw (anonymized): ${n.anonymized?.length ? n.anonymized.join('; ') : 'no changes'}`);
  if (f.error) lines.push(`error: ${f.error.code} ${f.error.message}`);
  if (e.tunnelError) lines.push(`error: ${e.tunnelError}`);
  for (const [title, list] of [['request headers', f.requestHeaders], ['response headers', f.responseHeaders]] as const) {
    if (list && list.length > 0) lines.push(`${title}:`, ...list.map(([k, v]) => `  ${k}: ${v}`));
  }
  if (!f.requestHeaders) lines.push('headers: not captured (--log-headers or log.headers: true)');
  return lines;
}

/** One flow: request line, timings, cache, policy rule, what anonymization changed, captured headers, a curl line. */
export function FlowDetail({ entry, curl, height }: { entry: Entry; curl: string | undefined; height: number }): React.JSX.Element {
  const curlRows = curl ? Math.ceil(curl.length / 80) + 1 : 0;
  const lines = detailLines(entry).slice(0, Math.max(1, height + 1 - curlRows));
  return (
    <Box flexDirection="column" height={height + 1}>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate" bold={i === 0}>{l}</Text>
      ))}
      {curl ? <Text wrap="wrap" color="green">{curl}</Text> : null}
    </Box>
  );
}
