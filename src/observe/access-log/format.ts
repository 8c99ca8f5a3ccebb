import type { ProxyEvent } from '../../core/events.js';
import { combinedFlow, combinedTunnel } from './combined.js';
import { flowJson } from './json-line.js';
import { squidFlow, squidTunnel } from './squid.js';
import type { LogFormat } from './types.js';

export type LineFormatter = (event: ProxyEvent, nowMs: number) => string | undefined;

/**
 * One access-log line (without the newline) per flow.end / tunnel.end; other events are not access-log lines
 * (undefined). JSON keeps pino's line shape (`level`, `time`, `msg`) so `pino-pretty` and existing tooling read it.
 */
export function formatter(format: LogFormat): LineFormatter {
  switch (format) {
    case 'squid':
      return (e, now) => (e.type === 'flow.end' ? squidFlow(e.flow) : e.type === 'tunnel.end' ? squidTunnel(e, now) : undefined);
    case 'combined':
      return (e, now) => (e.type === 'flow.end' ? combinedFlow(e.flow) : e.type === 'tunnel.end' ? combinedTunnel(e, now) : undefined);
    default:
      return jsonLine;
  }
}

function jsonLine(e: ProxyEvent, now: number): string | undefined {
  if (e.type === 'flow.end') return `{"level":30,"time":${now},"msg":"flow","flow":${flowJson(e.flow)}}`;
  if (e.type === 'tunnel.end') {
    const { type: _type, ...tunnel } = e;
    return `{"level":30,"time":${now},"msg":"tunnel","tunnel":${JSON.stringify(tunnel)}}`;
  }
  return undefined;
}
