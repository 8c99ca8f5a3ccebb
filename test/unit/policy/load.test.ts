import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decide } from '../../../src/policy/decide.js';
import { loadPolicy } from '../../../src/policy/load.js';
import { baseOptions, req } from './build.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-rules-'));
  await mkdir(join(dir, 'lists'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('loadPolicy', () => {
  it('reads rule files in name order and lists as categories, format per file', async () => {
    await writeFile(join(dir, '10-first.yaml'), 'rules:\n  - id: a\n    action: allow\n    host: ok.ads.example\n');
    await writeFile(join(dir, '20-second.yml'), 'rules:\n  - id: b\n    action: block\n    category: [ads, hosts, easy]\n');
    await writeFile(join(dir, 'README.md'), '# not a rules file\n');
    await writeFile(join(dir, 'lists', 'ads.txt'), 'ads.example\n');
    await writeFile(join(dir, 'lists', 'hosts.hosts'), '0.0.0.0 h.example\n');
    await writeFile(join(dir, 'lists', 'easy.txt'), '||e.example^\n##.banner\n');
    const { policy, notes } = await loadPolicy(dir, baseOptions);
    expect(policy.rules.map((r) => r.id)).toEqual(['a', 'b']);
    expect([...policy.categories.keys()].sort()).toEqual(['ads', 'easy', 'hosts']);
    expect(notes).toEqual([`${join(dir, 'lists', 'easy.txt')}: adblock list, 1 entries of other syntax skipped`]);
    expect(decide(req('http://ok.ads.example/'), policy).ruleId).toBe('a');
    expect(decide(req('http://h.example/'), policy).category?.category).toBe('hosts');
    expect(decide(req('http://x.e.example/'), policy).category?.file).toBe(join(dir, 'lists', 'easy.txt'));
  });

  it('a missing folder is an empty policy with a note', async () => {
    const { policy, notes } = await loadPolicy(join(dir, 'nope'), baseOptions);
    expect(policy.rules).toEqual([]);
    expect(notes[0]).toContain('does not exist');
  });

  it('fails whole on the first broken file, naming file:line', async () => {
    await writeFile(join(dir, 'policy.yaml'), 'rules: []\n');
    await writeFile(join(dir, 'lists', 'bad.txt'), 'ok.example\nbad domain here\n');
    await expect(loadPolicy(dir, baseOptions)).rejects.toThrow(`${join(dir, 'lists', 'bad.txt')}:2: not a domain name`);
  });
});
