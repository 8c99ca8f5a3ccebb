import type { FlowRecord } from '../../../src/core/flow.js';
import type { TunnelEnd } from '../../../src/tui/entry.js';

/** A finished flow record with sensible defaults; override any field. */
export function record(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: 'f1', mode: 'forward', time: '2026-01-01T12:00:00.000Z', client: '127.0.0.1:50000', method: 'GET',
    url: 'http://example.test/index.html', version: '1.1', status: 200, bytesIn: 0, bytesOut: 1234,
    timings: { firstByte: 3, total: 12.5 }, notes: {}, ...over,
  };
}

export function tunnel(over: Partial<TunnelEnd> = {}): TunnelEnd {
  return {
    type: 'tunnel.end', id: 't1', client: '127.0.0.1:50001', target: 'secure.test:443', bytesIn: 100,
    bytesOut: 2000, intercepted: false, durationMs: 1500, ...over,
  };
}

/** A controllable clock for counters. */
export function fakeClock(start = 1_000_000): { now(): number; monotonic(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, monotonic: () => t, advance: (ms) => { t += ms; } };
}
