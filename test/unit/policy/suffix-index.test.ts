import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SuffixIndex } from '../../../src/policy/suffix-index.js';

/** The reference: a host is covered when it equals a listed domain or ends with "." + one. */
function naive(domains: readonly string[], host: string): boolean {
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

const label = fc.constantFrom('a', 'b', 'ab', 'ads', 'x-y', 'com', 'example', '1');
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));

describe('SuffixIndex', () => {
  it('agrees with a naive matcher for random lists and hosts', () => {
    fc.assert(fc.property(fc.array(domain, { maxLength: 30 }), fc.array(domain, { minLength: 1, maxLength: 30 }), (domains, hosts) => {
      const index = new SuffixIndex();
      for (const d of domains) index.add({ domain: d, file: 'f', line: 1 });
      for (const h of hosts) {
        const hit = index.match(h);
        expect(hit !== undefined).toBe(naive(domains, h));
        if (hit) expect(h === hit.domain || h.endsWith(`.${hit.domain}`)).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it('returns the most specific entry and keeps the first line of a duplicate', () => {
    const index = new SuffixIndex();
    index.add({ domain: 'example.com', file: 'f', line: 1 });
    index.add({ domain: 'ads.example.com', file: 'f', line: 2 });
    index.add({ domain: 'ads.example.com', file: 'f', line: 3 });
    expect(index.match('x.ads.example.com')?.line).toBe(2);
    expect(index.match('www.example.com')?.line).toBe(1);
    expect(index.size).toBe(2);
  });
});
