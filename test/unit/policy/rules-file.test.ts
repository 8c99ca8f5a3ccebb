import { describe, expect, it } from 'vitest';
import { policyFrom } from './build.js';

describe('rules file errors name file:line', () => {
  it.each([
    ['rules:\n  - id: a\n    action: block\n    hots: x.example\n', 'rules/policy.yaml:2: rules.0: Unrecognized key: "hots"'],
    ['rules:\n  - id: a\n    action: blok\n', 'rules/policy.yaml:3: rules.0.action: action is one of'],
    ['rules:\n  - id: a\n    action: anonymize loud\n', 'rules/policy.yaml:3:'],
    ['rules:\n  - id: a\n    action: block\n    port: http\n', 'rules/policy.yaml:4: rules.0.port'],
    ['rules:\n  - id: a\n    action: block\n    time: someday\n', 'rules/policy.yaml:4: rule a: bad time window "someday"'],
    ['rules:\n  - id: a\n    action: block\n\n    category: nope\n', 'rules/policy.yaml:5: rule a: unknown category "nope"'],
    ['rules:\n  - id: a\n    action: block\n    group: [x]\n', 'rules/policy.yaml:4: rule a: unknown group "x"'],
    ['rules:\n  - id: a\n    action: allow\n  - id: a\n    action: block\n', 'rules/policy.yaml:4: duplicate rule id "a" (first at rules/policy.yaml:2)'],
    ['rules:\n  - id: a\n   action: block\n', 'rules/policy.yaml:3:'],
    ['groups:\n  g: { clients: [10.0.0.0/99] }\n', 'rules/policy.yaml:2: group g: invalid CIDR "10.0.0.0/99"'],
    ['rulez: []\n', 'rules/policy.yaml:1:'],
  ])('%j', (yaml, message) => {
    expect(() => policyFrom(yaml)).toThrow(message);
  });

  it('accepts a bare list of rules and single values for list fields', () => {
    const p = policyFrom('- id: a\n  action: block\n  host: x.example\n  method: get\n');
    expect(p.rules[0]?.id).toBe('a');
    expect(p.rules[0]?.line).toBe(1);
  });

  it('rejects an unknown time zone', () => {
    expect(() => policyFrom('rules: []', {}, { timeZone: 'Nowhere/Land' })).toThrow('unknown time zone "Nowhere/Land"');
  });
});
