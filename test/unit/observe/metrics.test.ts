import { describe, expect, it } from 'vitest';
import { Metrics, statusClass } from '../../../src/observe/metrics.js';
import { record } from './records.js';

/** A small parser of the text exposition format: every non-comment line is `name{labels} value`. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|\+Inf)$/.exec(line);
    if (!m) throw new Error(`not exposition format: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

describe('Metrics', () => {
  it('counts requests by mode, status class, cache status and policy action', () => {
    const m = new Metrics({ inFlight: () => 2, openTunnels: () => 1, droppedEvents: () => 7 }, 0);
    m.observe({ type: 'flow.end', flow: record() });
    m.observe({ type: 'flow.end', flow: record({ notes: { cache: 'hit' } }) });
    m.observe({ type: 'flow.end', flow: record({ status: 403, bytesOut: 10, notes: { policy: { action: 'block', rule: 'r', explain: '' } } }) });
    m.observe({ type: 'tunnel.end', id: 't', client: 'c:1', target: 'x:443', bytesIn: 5, bytesOut: 6, intercepted: false, durationMs: 1 });
    m.observe({ type: 'backend.health', pool: 'p"1', backend: 'b', state: 'down', reason: 'x' });
    m.observe({ type: 'config.reload', ok: false, error: 'x' });
    const s = parse(m.render(10_000));
    expect(s.get('portico_requests_total{mode="forward",status_class="2xx",cache="miss",policy="none"}')).toBe(1);
    expect(s.get('portico_requests_total{mode="forward",status_class="2xx",cache="hit",policy="none"}')).toBe(1);
    expect(s.get('portico_requests_total{mode="forward",status_class="4xx",cache="none",policy="block"}')).toBe(1);
    expect(s.get('portico_bytes_out_total{mode="forward"}')).toBe(1234 * 2 + 10);
    expect(s.get('portico_request_duration_seconds_bucket{mode="forward",le="0.025"}')).toBe(3);
    expect(s.get('portico_request_duration_seconds_bucket{mode="forward",le="0.01"}')).toBe(0);
    expect(s.get('portico_request_duration_seconds_bucket{mode="forward",le="+Inf"}')).toBe(3);
    expect(s.get('portico_request_duration_seconds_count{mode="forward"}')).toBe(3);
    expect(s.get('portico_tunnels_total{intercepted="false",result="ok"}')).toBe(1);
    expect(s.get('portico_backend_up{pool="p\\"1",backend="b"}')).toBe(0);
    expect(s.get('portico_config_reloads_total{result="error"}')).toBe(1);
    expect(s.get('portico_inflight_requests')).toBe(2);
    expect(s.get('portico_open_tunnels')).toBe(1);
    expect(s.get('portico_events_dropped_total')).toBe(7);
    expect(s.get('portico_uptime_seconds')).toBe(10);
  });

  it('declares every family once with HELP and TYPE', () => {
    const text = new Metrics().render();
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE'));
    expect(new Set(types).size).toBe(types.length);
    expect(types.length).toBeGreaterThanOrEqual(9);
  });

  it.each([[200, '2xx'], [404, '4xx'], [undefined, 'none'], [0, 'none'], [503, '5xx']])('status class of %s', (s, c) => {
    expect(statusClass(s)).toBe(c);
  });
});
