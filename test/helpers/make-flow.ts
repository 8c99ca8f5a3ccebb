import type { Body, Flow, RawHeaders } from '../../src/core/flow.js';

export interface FlowInit {
  method?: string;
  url: string;
  headers?: RawHeaders;
  body?: Body | null;
  version?: '1.0' | '1.1';
  clientIp?: string;
  signal?: AbortSignal;
}

/** A minimal live Flow for stage and upstream tests (what the front door would build). */
export function makeFlow(init: FlowInit): Flow {
  return {
    id: 'test-flow', mode: 'forward', signal: init.signal ?? new AbortController().signal,
    client: { ip: init.clientIp ?? '127.0.0.1', port: 50000 }, startedAt: 0,
    request: { method: init.method ?? 'GET', url: new URL(init.url), version: init.version ?? '1.1', headers: init.headers ?? [] },
    requestBody: init.body ?? null, notes: {}, timings: { start: 0 }, bytesIn: 0, bytesOut: 0,
  };
}

export const testClock = { now: () => 0, monotonic: () => performance.now() };
