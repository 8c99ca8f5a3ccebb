import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardCommand, loadForwardConfig } from '../../../src/cli/forward.js';
import type { ForwardFlags } from '../../../src/cli/forward-options.js';
import type { ForwardConfig } from '../../../src/config/schema.js';
import { runPolicyCommand } from '../../helpers/policy-cli.js';

/** Issue 3 flags: `portico forward --policy-report-only --anonymize P --rules DIR` and `portico policy test --user`. */

let dir: string;
let cfgDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-flags-'));
  cfgDir = await mkdtemp(join(tmpdir(), 'portico-policy-cfg-'));
  await writeFile(join(dir, 'policy.yaml'), 'groups:\n  staff: { users: [carol] }\nrules:\n' +
    '  - { id: alice-only, action: allow, host: social.example, user: alice }\n' +
    '  - { id: staff-users, action: allow, host: social.example, group: staff }\n' +
    '  - { id: social, action: block, host: social.example }\n');
  await writeFile(join(cfgDir, 'portico.yaml'), 'anonymize:\n  profile: off\n  userAgent: Office/1\npolicy:\n  reportOnly: false\n  timeZone: Europe/Paris\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(cfgDir, { recursive: true, force: true });
});

function configFrom(argv: string[], file = '/dev/null'): ForwardConfig {
  const cmd = forwardCommand().action(() => undefined);
  cmd.parse(argv, { from: 'user' });
  return loadForwardConfig({ ...cmd.opts<ForwardFlags>(), config: file });
}

describe('portico forward policy flags', () => {
  it('defaults: enforcing, standard profile, ./rules', () => {
    const c = configFrom([]);
    expect([c.policy.reportOnly, c.anonymize.profile, c.policy.rules]).toEqual([false, 'standard', 'rules']);
  });

  it.each([
    [['--policy-report-only'], true, 'standard'],
    [['--anonymize', 'strict'], false, 'strict'],
    [['--anonymize', 'standard'], false, 'standard'],
    [['--anonymize', 'off'], false, 'off'],
    [['--policy-report-only', '--anonymize', 'off'], true, 'off'],
  ])('%j → reportOnly %s, profile %s', (argv, reportOnly, profile) => {
    const c = configFrom(argv);
    expect([c.policy.reportOnly, c.anonymize.profile]).toEqual([reportOnly, profile]);
  });

  it('--rules sets policy.rules', () => {
    expect(configFrom(['--rules', dir]).policy.rules).toBe(dir);
  });

  it('flags override the file and keep its other keys', () => {
    const c = configFrom(['--policy-report-only', '--anonymize', 'strict'], join(cfgDir, 'portico.yaml'));
    expect([c.policy.reportOnly, c.policy.timeZone, c.anonymize.profile, c.anonymize.userAgent]).toEqual([true, 'Europe/Paris', 'strict', 'Office/1']);
    const fileOnly = configFrom([], join(cfgDir, 'portico.yaml'));
    expect([fileOnly.policy.reportOnly, fileOnly.anonymize.profile]).toEqual([false, 'off']);
  });

  it('an unknown profile is refused with its config path', () => {
    expect(() => configFrom(['--anonymize', 'paranoid'])).toThrow(/anonymize\.profile/);
  });
});

function policyTest(args: string[]): Promise<{ out: string; err: string; code: number }> {
  return runPolicyCommand(['test', 'https://social.example/', '--rules', dir, ...args]);
}

describe('portico policy test --user', () => {
  it.each([
    [[], 'social', 'block'],
    [['--user', 'alice'], 'alice-only', 'allow'],
    [['--user', 'carol'], 'staff-users', 'allow'],
    [['--user', 'mallory'], 'social', 'block'],
  ])('%j → %s', async (args, rule, action) => {
    const r = await policyTest(args);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain(`action:   ${action}\n`);
    expect(r.out).toContain(`rule:     ${rule} (`);
  });

  it('explains that the user matched', async () => {
    expect((await policyTest(['--user', 'alice'])).out).toContain('user alice');
    expect((await policyTest(['--user', 'carol'])).out).toContain('client in group staff');
  });
});
