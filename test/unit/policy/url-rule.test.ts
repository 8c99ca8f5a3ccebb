import { describe, expect, it } from 'vitest';
import { decide, enforcedBlock } from '../../../src/policy/decide.js';
import { policyFrom, req, WED_10_UTC } from './build.js';

/** The `url:` condition of a Portico rule: globs on the full URL (scheme, host, port, path, query). */
const policy = policyFrom(`rules:
  - id: private-docs
    action: block
    url: "https://*.example.com/private/**"
  - id: admin-plain
    action: block
    url: ["http://*/admin", "http://*/admin/*"]
`);

describe('url rules', () => {
  it.each([
    ['https://docs.example.com/private/a/b.pdf', 'private-docs'],
    ['https://docs.example.com/private/a?x=1', 'private-docs'],
    ['https://DOCS.Example.com/private/x', 'private-docs'],
    ['http://intranet.example:8080/admin', 'admin-plain'],
    ['http://intranet.example/admin/users', 'admin-plain'],
  ])('%s is blocked by %s', (url, rule) => {
    const d = decide(req(url), policy);
    expect([d.action, d.ruleId, enforcedBlock(d)]).toEqual(['block', rule, true]);
    expect(d.explain()).toContain('url matches ');
  });

  it.each([
    'https://docs.example.com/public/a', // other path
    'http://docs.example.com/private/a', // other scheme
    'https://example.com/private/a', // `*.` needs a subdomain
    'https://docs.example.org/private/a', // other domain
    'https://intranet.example/admin', // the admin rule is for http only
    'http://intranet.example/admin/users/1', // `*` does not cross `/`
    'http://intranet.example/x/admin', // anchored at the host
  ])('%s passes', (url) => {
    const d = decide(req(url), policy);
    expect([d.action, d.ruleId]).toEqual(['allow', 'default']);
  });

  it('names the glob that matched', () => {
    expect(decide(req('http://h.example/admin'), policy).explain())
      .toBe('block by rule admin-plain (rules/policy.yaml:5): url matches http://*/admin');
  });

  it('does not apply at CONNECT time, when the URL is not known', () => {
    const d = decide({ host: 'docs.example.com', port: 443, clientIp: '10.0.0.5', at: WED_10_UTC }, policy);
    expect(d.ruleId).toBe('default');
  });
});
