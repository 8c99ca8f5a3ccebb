import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CategoryIndex } from '../../../src/policy/category.js';

/** The reference: covered when the host equals a listed domain or ends with "." + one. */
const covers = (domain: string, host: string): boolean => host === domain || host.endsWith(`.${domain}`);

function naive(lists: ReadonlyArray<{ category: string; blocks: string[]; exceptions: string[] }>, host: string): string[] {
  return lists.filter((l) => l.blocks.some((d) => covers(d, host)) && !l.exceptions.some((d) => covers(d, host))).map((l) => l.category);
}

const label = fc.constantFrom('a', 'b', 'ab', 'ads', 'x-y', 'com', 'example', '1');
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const list = (category: string) => fc.record({
  category: fc.constant(category), blocks: fc.array(domain, { maxLength: 25 }), exceptions: fc.array(domain, { maxLength: 3 }),
});

describe('CategoryIndex (the suffix index)', () => {
  it('agrees with a naive matcher for random lists, exceptions and hosts', () => {
    fc.assert(fc.property(fc.tuple(list('ads'), list('trackers')), fc.array(domain, { minLength: 1, maxLength: 30 }), (lists, hosts) => {
      const index = new CategoryIndex();
      for (const l of lists) {
        for (const d of l.blocks) index.add(l.category, { domain: d, file: l.category, line: 1 }, false);
        for (const d of l.exceptions) index.add(l.category, { domain: d, file: l.category, line: 1 }, true);
      }
      for (const h of hosts) {
        const hits = index.lookup(h);
        expect([...hits.keys()].sort()).toEqual(naive(lists, h).sort());
        for (const entry of hits.values()) expect(covers(entry.domain, h)).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it('returns the most specific entry and keeps the first line of a duplicate', () => {
    const index = new CategoryIndex();
    index.add('c', { domain: 'example.com', file: 'f', line: 1 }, false);
    expect(index.add('c', { domain: 'ads.example.com', file: 'f', line: 2 }, false)).toBe(true);
    expect(index.add('c', { domain: 'ads.example.com', file: 'f', line: 3 }, false)).toBe(false);
    expect(index.lookup('x.ads.example.com').get('c')?.line).toBe(2);
    expect(index.lookup('www.example.com').get('c')?.line).toBe(1);
    expect(index.lookup('example.org').size).toBe(0);
  });
});
