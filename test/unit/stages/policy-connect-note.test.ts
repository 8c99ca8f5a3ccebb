import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { connectPolicy } from '../../../src/stages/policy.js';
import { testClock } from '../../helpers/make-flow.js';
import { policyFrom } from '../policy/build.js';

const policy = policyFrom(`rules:
  - { id: trial, action: block, category: trial, report-only: true }
  - { id: ads, action: block, host: .ads.example }
`, { trial: 'trial.example\n' });
const c = connectPolicy({ current: () => policy }, { clock: testClock, log: pino({ level: 'silent' }) });
const client = { ip: '127.0.0.1' };

describe('connectPolicy: the note of a CONNECT-time block (for the blind tunnel.end)', () => {
  it('a report-only block passes and carries a reportOnly note with rule and category', () => {
    const r = c.checkConnect({ host: 'www.trial.example', port: 443 }, client);
    expect(r.block).toBeUndefined();
    expect(r.note).toMatchObject({ action: 'block', rule: 'trial', category: 'trial', reportOnly: true, source: 'rules/policy.yaml:2' });
  });

  it('an enforced block carries its note without reportOnly; other decisions carry none', () => {
    const r = c.checkConnect({ host: 'x.ads.example', port: 443 }, client);
    expect(r.block).toContain('block by rule ads');
    expect(r.note).toMatchObject({ action: 'block', rule: 'ads' });
    expect(r.note?.reportOnly).toBeUndefined();
    expect(c.checkConnect({ host: 'ok.example', port: 443 }, client)).toEqual({ noMitm: false });
  });
});
