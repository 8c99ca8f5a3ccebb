import type { FlowRecord } from '../../../src/core/flow.js';

/** A finished flow record as the pipeline would emit it; override what a test needs. */
export function record(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: 'f1', mode: 'forward', time: '2024-06-05T12:30:00.000Z', client: '127.0.0.1:50123', method: 'GET',
    url: 'http://example.test/a?q=1', version: '1.1', status: 200, bytesIn: 0, bytesOut: 1234,
    timings: { firstByte: 12.5, total: 20.25 }, notes: { source: 'upstream', upstream: 'example.test:80', cache: 'miss' },
    ...over,
  };
}
