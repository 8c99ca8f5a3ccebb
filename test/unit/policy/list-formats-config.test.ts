import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/load.js';
import { forwardConfigSchema } from '../../../src/config/schema.js';
import { decide } from '../../../src/policy/decide.js';
import { ListFormats } from '../../../src/policy/list-formats.js';
import { loadPolicy } from '../../../src/policy/load.js';
import { baseOptions, req } from './build.js';
import { runPolicyCommand } from '../../helpers/policy-cli.js';

/** Detected as Adblock (its first line), so the hosts line is skipped; as a hosts file, the `||` line names nothing. */
const MIXED = '||adblock.example^\n0.0.0.0 hosts.example\n';
const RULES = 'rules:\n  - { id: listed, action: block, category: mixed }\n';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-list-formats-'));
  await mkdir(join(dir, 'lists'));
  await writeFile(join(dir, 'policy.yaml'), RULES);
  await writeFile(join(dir, 'lists', 'mixed.txt'), MIXED);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.portico.yaml`, { force: true });
});

const listed = (policy: Awaited<ReturnType<typeof loadPolicy>>['policy'], host: string): string =>
  decide(req(`http://${host}/`), policy).ruleId;

describe('policy.listFormats', () => {
  it('without it the format is detected from the content', async () => {
    const { policy, notes } = await loadPolicy(dir, baseOptions);
    expect(listed(policy, 'adblock.example')).toBe('listed');
    expect(listed(policy, 'hosts.example')).toBe('default');
    expect(notes).toEqual([`${join(dir, 'lists', 'mixed.txt')}: adblock list, 1 entries of other syntax skipped`]);
  });

  it.each([['mixed.txt'], ['lists/mixed.txt'], ['*.txt'], ['lists/*']])('a file named by %s is parsed in the named format', async (key) => {
    const { policy, notes } = await loadPolicy(dir, { ...baseOptions, listFormats: { [key]: 'hosts' } });
    expect(listed(policy, 'hosts.example')).toBe('listed');
    expect(listed(policy, 'adblock.example')).toBe('default');
    expect(notes).toEqual([]);
  });

  it('a list named `domains` is held to that format: a hosts line fails with file:line', async () => {
    await expect(loadPolicy(dir, { ...baseOptions, listFormats: { 'mixed.txt': 'domains' } }))
      .rejects.toThrow(`${join(dir, 'lists', 'mixed.txt')}:1: not a domain name: "||adblock.example^"`);
  });

  it('only the named files change: the others are still detected', async () => {
    await writeFile(join(dir, 'lists', 'other.hosts'), '0.0.0.0 other.example\n');
    await writeFile(join(dir, 'policy.yaml'), 'rules:\n  - { id: listed, action: block, category: [mixed, other] }\n');
    const { policy } = await loadPolicy(dir, { ...baseOptions, listFormats: { 'mixed.txt': 'hosts' } });
    expect(listed(policy, 'other.example')).toBe('listed');
    expect(policy.categories.get('other')?.size).toBe(1);
  });

  it('two keys naming one file with different formats is an error naming both; a key matching nothing is a note', async () => {
    await expect(loadPolicy(dir, { ...baseOptions, listFormats: { '*.txt': 'hosts', 'mixed.txt': 'adblock' } }))
      .rejects.toThrow('policy.listFormats: lists/mixed.txt is named hosts by "*.txt" and adblock by "mixed.txt"');
    const same = await loadPolicy(dir, { ...baseOptions, listFormats: { '*.txt': 'hosts', 'mixed.txt': 'hosts', 'gone.txt': 'adblock' } });
    expect(listed(same.policy, 'hosts.example')).toBe('listed');
    expect(same.notes).toEqual([`policy.listFormats: "gone.txt" matches no list in ${join(dir, 'lists')}`]);
  });

  it('ListFormats matches the name and the path in the rules folder, not other folders', () => {
    const f = new ListFormats({ 'lists/a.txt': 'adblock', '*.hosts': 'hosts' });
    expect(f.formatOf('lists', 'a.txt')).toBe('adblock');
    expect(f.formatOf('lists', 'b.hosts')).toBe('hosts');
    expect(f.formatOf('lists', 'b.txt')).toBeUndefined();
    expect(f.unused()).toEqual([]);
  });
});

describe('policy.listFormats in the config', () => {
  it('accepts the list formats and defaults to none', () => {
    const config = validateConfig(forwardConfigSchema, { policy: { listFormats: { 'big.txt': 'hosts', 'lists/*.abp': 'adblock' } } }, 'test');
    expect(config.policy.listFormats).toEqual({ 'big.txt': 'hosts', 'lists/*.abp': 'adblock' });
    expect(validateConfig(forwardConfigSchema, {}, 'test').policy.listFormats).toEqual({});
  });

  it('refuses an unknown format, naming the key and the known formats', () => {
    expect(() => validateConfig(forwardConfigSchema, { policy: { listFormats: { 'big.txt': 'csv' } } }, 'test'))
      .toThrow('policy.listFormats.big.txt: unknown list format "csv" (known: domains, hosts, adblock)');
  });
});

const run = runPolicyCommand;

describe('portico policy with policy.listFormats from --config', () => {
  it('check and test parse a named list in its format', async () => {
    const config = `${dir}.portico.yaml`; // beside the folder: a .yaml inside it is a rules file
    await writeFile(config, 'policy:\n  listFormats:\n    mixed.txt: hosts\n');
    const check = await run(['check', '--rules', dir, '--config', config]);
    expect(check.code).toBe(0);
    expect(check.out).toContain('(mixed; 1 domains)');
    expect(check.out).not.toContain('adblock list');
    const hit = await run(['test', 'https://hosts.example/', '--rules', dir, '--config', config]);
    expect(hit.out).toContain('rule:     listed');
    expect(hit.out).toContain(`category: mixed (hosts.example at ${join(dir, 'lists', 'mixed.txt')}:2)`);
    const detected = await run(['test', 'https://hosts.example/', '--rules', dir]);
    expect(detected.out).toContain('rule:     default');
  });

  it('check refuses a config naming an unknown format (exit 1, the key on stderr)', async () => {
    const config = `${dir}.portico.yaml`; // beside the folder: a .yaml inside it is a rules file
    await writeFile(config, 'policy:\n  listFormats:\n    mixed.txt: easylist\n');
    const r = await run(['check', '--rules', dir, '--config', config]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('policy.listFormats.mixed.txt: unknown list format "easylist" (known: domains, hosts, adblock)');
  });
});
