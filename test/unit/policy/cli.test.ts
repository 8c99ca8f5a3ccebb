import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPolicyCommand } from '../../helpers/policy-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-cli-'));
  await writeFile(join(dir, 'policy.yaml'), 'groups:\n  staff: { clients: [10.0.0.0/8] }\nrules:\n' +
    '  - { id: lunch, action: allow, host: social.example, group: staff, time: "weekdays 12:00-13:00" }\n' +
    '  - { id: social, action: block, host: social.example }\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = runPolicyCommand;

describe('portico policy', () => {
  it('test prints action, rule file:line and why', async () => {
    const r = await run(['test', 'https://social.example/feed', '--rules', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('action:   block\n');
    expect(r.out).toContain(`rule:     social (${join(dir, 'policy.yaml')}:5)`);
  });

  it('test honours --client and --at', async () => {
    const r = await run(['test', 'https://social.example/', '--rules', dir, '--client', '10.1.2.3', '--at', '2024-06-05T12:15:00Z']);
    expect(r.out).toContain('rule:     lunch');
    expect(r.out).toContain('client in group staff');
  });

  it('check passes on good files and fails with file:line on a broken one', async () => {
    expect((await run(['check', '--rules', dir])).out).toContain('ok: ');
    const bad = await mkdtemp(join(tmpdir(), 'portico-policy-cli-'));
    await writeFile(join(bad, 'x.yaml'), 'rules:\n  - id: a\n    action: nope\n');
    const r = await run(['check', '--rules', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(bad, 'x.yaml')}:3: rules.0.action`);
    await rm(bad, { recursive: true, force: true });
  });
});
