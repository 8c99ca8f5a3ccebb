import { describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../../src/core/events.js';
import type { Notes } from '../../../src/core/flow.js';
import { Metrics } from '../../../src/observe/metrics.js';
import { record } from './records.js';

const NAME = 'portico_policy_report_only_total';

/** The samples of the report-only family, as `{labels} value` lines. */
function reportOnly(m: Metrics): string[] {
  return m.render(0).split('\n').filter((l) => l.startsWith(`${NAME}{`)).sort();
}

const trial: NonNullable<Notes['policy']> = { action: 'block', rule: 'trial', explain: 'x', category: 'ads', reportOnly: true };
const tunnel = (over: Partial<Extract<ProxyEvent, { type: 'tunnel.end' }>> = {}): ProxyEvent => ({
  type: 'tunnel.end', id: 't', client: '127.0.0.1:1', target: 'ads.example:443', bytesIn: 0, bytesOut: 0, intercepted: false, durationMs: 1, ...over,
});

describe('portico_policy_report_only_total', () => {
  it('counts report-only blocks of requests and of blind CONNECTs by rule and category', () => {
    const m = new Metrics({}, 0);
    m.observe({ type: 'flow.end', flow: record({ notes: { policy: trial } }) });
    m.observe({ type: 'flow.end', flow: record({ notes: { policy: { action: 'block', rule: 'default', explain: 'x', reportOnly: true } } }) });
    m.observe(tunnel({ policy: trial }));
    expect(reportOnly(m)).toEqual([`${NAME}{category="ads",rule="trial"} 2`, `${NAME}{category="none",rule="default"} 1`]);
  });

  it('does not count enforced blocks, other decisions, or tunnels without a report-only note', () => {
    const m = new Metrics({}, 0);
    const enforced = { action: 'block', rule: 'ads', explain: 'x', category: 'ads' } as const;
    m.observe({ type: 'flow.end', flow: record({ status: 403, notes: { policy: enforced } }) });
    m.observe({ type: 'flow.end', flow: record({ notes: { policy: { action: 'allow', rule: 'open', explain: 'x' } } }) });
    m.observe({ type: 'flow.end', flow: record() });
    m.observe(tunnel({ policy: enforced, error: 'POLICY_BLOCKED: block by rule ads' }));
    m.observe(tunnel());
    expect(reportOnly(m)).toEqual([]);
    expect(m.render(0)).toContain(`# TYPE ${NAME} counter`);
  });
});
