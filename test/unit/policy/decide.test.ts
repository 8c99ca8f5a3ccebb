import { describe, expect, it } from 'vitest';
import { decide, enforcedBlock } from '../../../src/policy/decide.js';
import { policyFrom, req, WED_10_UTC } from './build.js';

const POLICY = `
groups:
  staff: { clients: [10.0.0.0/24], users: [alice] }
  interns: { clients: [10.0.1.0/24], users: [ivan] }
rules:
  - id: intranet
    action: allow
    host: .corp.example
  - id: ads-exception
    action: allow
    host: good.ads.example
  - id: ads
    action: block
    category: [ads, trackers]
  - id: social-lunch
    action: allow
    host: ["*.social.example", social.example]
    group: staff
    time: weekdays 12:00-13:00
  - id: social
    action: block
    host: ["*.social.example", social.example]
  - id: uploads
    action: block
    method: [POST, PUT]
    path: /upload/**
  - id: tracking
    action: anonymize strict
    query: [utm_*, fbclid]
  - id: bank
    action: no-mitm
    host: "*.bank.example"
    port: 443
  - id: video
    action: block
    content-type: video/*
  - id: trial
    action: block
    host: trial.example
    report-only: true
`;
const policy = policyFrom(POLICY, { ads: 'ads.example\n', trackers: '0.0.0.0 t.example\n' });
const LUNCH = WED_10_UTC + 2.5 * 3600_000; // Wednesday 12:30 UTC

describe('decide', () => {
  it.each([
    ['http://www.corp.example/', {}, 'allow', 'intranet'],
    ['http://x.ads.example/', {}, 'block', 'ads'],
    ['http://good.ads.example/', {}, 'allow', 'ads-exception'],
    ['http://t.example/', {}, 'block', 'ads'],
    ['http://www.social.example/', {}, 'block', 'social'],
    ['http://www.social.example/', { at: LUNCH }, 'allow', 'social-lunch'],
    ['http://www.social.example/', { at: LUNCH, clientIp: '10.0.1.9' }, 'block', 'social'],
    ['http://www.social.example/', { at: LUNCH, clientIp: '192.0.2.1', user: 'alice' }, 'allow', 'social-lunch'],
    ['http://www.social.example/', { at: LUNCH + 86_400_000 * 3 }, 'block', 'social'],
    ['http://files.example/upload/a/b', { method: 'POST' }, 'block', 'uploads'],
    ['http://files.example/upload/a/b', { method: 'GET' }, 'allow', 'default'],
    ['http://news.example/?a=1&utm_source=x', {}, 'anonymize', 'tracking'],
    ['https://www.bank.example/', {}, 'no-mitm', 'bank'],
    ['https://NEWS.Example./', {}, 'allow', 'default'],
  ])('%s %j → %s by %s', (url, extra, action, rule) => {
    const d = decide(req(url, extra), policy);
    expect([d.action, d.ruleId]).toEqual([action, rule]);
  });

  it('names the category, list file and line that matched', () => {
    const d = decide(req('http://a.t.example/'), policy);
    expect(d.category).toEqual({ category: 'trackers', domain: 't.example', file: 'rules/lists/trackers.txt', line: 1 });
    expect(d.file).toBe('rules/policy.yaml');
    expect(d.line).toBe(12);
    expect(d.explain()).toBe('block by rule ads (rules/policy.yaml:12): host a.t.example is in category trackers (t.example at rules/lists/trackers.txt:1)');
  });

  it('explains every condition and the default', () => {
    expect(decide(req('http://www.social.example/', { at: LUNCH }), policy).explain())
      .toBe('allow by rule social-lunch (rules/policy.yaml:15): client in group staff, host www.social.example matches *.social.example, time within weekdays 12:00-13:00');
    expect(decide(req('http://other.example/'), policy).explain()).toBe('allow by default: no rule matched other.example');
  });

  it('carries the anonymize profile', () => {
    expect(decide(req('http://n.example/?fbclid=1'), policy).profile).toBe('strict');
  });

  it('report-only rules decide but do not enforce', () => {
    const d = decide(req('http://trial.example/'), policy);
    expect([d.action, d.reportOnly, enforcedBlock(d)]).toEqual(['block', true, false]);
    expect(d.explain()).toContain('[report-only]');
    const global = policyFrom(POLICY, { ads: 'ads.example\n', trackers: '' }, { reportOnly: true });
    expect(enforcedBlock(decide(req('http://ads.example/'), global))).toBe(false);
  });

  it('at CONNECT time (no method, path or query) rules about them do not apply', () => {
    const connect = { host: 'files.example', port: 443, clientIp: '10.0.0.5', at: WED_10_UTC };
    expect(decide(connect, policy).ruleId).toBe('default');
    expect(decide({ ...connect, host: 'x.social.example' }, policy).ruleId).toBe('social');
  });

  it('content-type rules only match once the response type is known', () => {
    expect(decide(req('http://v.example/clip'), policy).ruleId).toBe('default');
    expect(decide(req('http://v.example/clip', { contentType: 'Video/MP4; codecs=x' }), policy).ruleId).toBe('video');
  });

  it('uses the default action and profile', () => {
    const p = policyFrom('rules: []', {}, { defaultAction: 'block', defaultProfile: 'standard' });
    const d = decide(req('http://x.example/'), p);
    expect([d.action, d.ruleId, d.profile]).toEqual(['block', 'default', 'standard']);
  });
});
