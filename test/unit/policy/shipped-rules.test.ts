import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildPolicy } from '../../../src/policy/compile.js';
import { decide, enforcedBlock } from '../../../src/policy/decide.js';
import { parseList } from '../../../src/policy/list-parse.js';
import { loadPolicy } from '../../../src/policy/load.js';
import type { Policy } from '../../../src/policy/model.js';
import { parseRulesFile } from '../../../src/policy/rules-file.js';
import { baseOptions, req, WED_10_UTC } from './build.js';

/** The repository's own rules/ folder: the documented example office policy must load and say what it documents. */
const RULES = fileURLToPath(new URL('../../../rules', import.meta.url));
const LUNCH = WED_10_UTC + 2.5 * 3600_000; // Wednesday 12:30 UTC
const STAFF = '192.0.2.10';
const INTERN = '192.0.2.200';

async function shipped(): Promise<Policy> {
  return (await loadPolicy(RULES, baseOptions)).policy;
}

/** The doh.txt list, as a string list of its domains (comments and blank lines left out). */
async function dohDomains(): Promise<string[]> {
  const text = await readFile(join(RULES, 'lists', 'doh.txt'), 'utf8');
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

describe('the shipped rules/ folder', () => {
  it('loads without errors, with the documented categories', async () => {
    const policy = await shipped();
    expect([...policy.categories.keys()].sort()).toEqual(['ads', 'doh', 'malware', 'social', 'trackers']);
    for (const c of policy.categories.values()) expect(c.size).toBeGreaterThan(0);
    expect(policy.rules.length).toBeGreaterThan(0);
    expect(policy.files).toContain(join(RULES, 'policy.yaml'));
  });

  it('does not enforce the doh category by default: every listed DoH endpoint is allowed', async () => {
    const policy = await shipped();
    const domains = await dohDomains();
    expect(domains.length).toBeGreaterThan(5);
    expect(domains).toContain('dns.google');
    for (const host of domains) {
      expect(policy.categories.get('doh')?.match(host)?.domain).toBe(host);
      const d = decide(req(`https://${host}/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB`), policy);
      expect([host, enforcedBlock(d)]).toEqual([host, false]);
    }
    expect(policy.rules.some((r) => r.categories.includes('doh'))).toBe(false);
  });

  it('turning on the commented block-doh rule, as documented, blocks them', async () => {
    const text = await readFile(join(RULES, 'policy.yaml'), 'utf8');
    const enabled = text.replace(/^ {2}# (- id: block-doh| {2}action: block| {2}category: doh)$/gm, '  $1');
    expect(enabled).not.toBe(text);
    const file = join(RULES, 'policy.yaml');
    const lists = await Promise.all(['ads', 'doh', 'malware', 'social', 'trackers'].map(async (category) => {
      const f = join(RULES, 'lists', `${category}.txt`);
      return { category, file: f, parsed: parseList(await readFile(f, 'utf8'), f) };
    }));
    const policy = buildPolicy({ ruleFiles: [{ file, parsed: parseRulesFile(enabled, file) }], lists }, baseOptions);
    const d = decide(req('https://dns.google/dns-query'), policy);
    expect([d.action, d.ruleId, d.category?.category, enforcedBlock(d)]).toEqual(['block', 'block-doh', 'doh', true]);
  });

  it.each([
    ['https://doubleclick.net/x', {}, 'block', 'block-lists', 'ads', true],
    ['https://preview.ads-partner.example/', {}, 'allow', 'allow-ads-partner', undefined, false],
    ['https://tracker.example/p.gif', {}, 'block', 'block-lists', 'trackers', true],
    ['https://www.malware.example/', {}, 'block', 'block-lists', 'malware', true],
    ['https://safe.malware.example/', {}, 'allow', 'default', undefined, false],
    ['https://www.facebook.com/', { clientIp: STAFF, at: LUNCH }, 'allow', 'social-lunch', 'social', false],
    ['https://www.facebook.com/', { clientIp: INTERN, at: LUNCH }, 'block', 'social', 'social', false], // report-only
    ['https://online.bank.example/', {}, 'no-mitm', 'banks-blind', undefined, false],
    ['https://news.example/a?utm_source=x', {}, 'anonymize', 'strip-tracking', undefined, false],
    ['https://dl.update.example/v2', {}, 'bypass-cache', 'updates-uncached', undefined, false],
  ])('%s %j → %s by %s', async (url, extra, action, rule, category, enforced) => {
    const d = decide(req(url, extra), await shipped());
    expect([d.action, d.ruleId, d.category?.category, enforcedBlock(d)]).toEqual([action, rule, category, enforced]);
  });
});
