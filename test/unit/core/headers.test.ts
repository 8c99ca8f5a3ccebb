import { describe, expect, it } from 'vitest';
import type { RawHeaders } from '../../../src/core/flow.js';
import { getHeader, getHeaderAll, removeHeader, setHeader, toNodeRaw } from '../../../src/core/headers.js';

// The helpers skip names whose length differs before lowercasing: the answers must be those of a plain comparison.
const headers: RawHeaders = [['Host', 'a'], ['VIA', '1.1 x'], ['via', '1.1 y'], ['X-Via', 'no'], ['Vi', 'no'], ['Content-Type', 't']];

describe('RawHeaders helpers', () => {
  it.each(['via', 'Via', 'VIA', 'host', 'HOST', 'content-type', 'x-via', 'vi', 'absent', ''])('%s: same answers as comparing every name lowercased', (name) => {
    const lower = name.toLowerCase();
    const plain = headers.filter(([k]) => k.toLowerCase() === lower);
    expect(getHeader(headers, name)).toBe(plain[0]?.[1]);
    expect(getHeaderAll(headers, name)).toEqual(plain.map(([, v]) => v));
    expect(removeHeader(headers, name)).toEqual(headers.filter(([k]) => k.toLowerCase() !== lower));
  });

  it('setHeader replaces every line of the name, at the end, in the given case', () => {
    expect(setHeader(headers, 'Via', '1.1 me')).toEqual([['Host', 'a'], ['X-Via', 'no'], ['Vi', 'no'], ['Content-Type', 't'], ['Via', '1.1 me']]);
  });

  it('toNodeRaw flattens in order, keeping case', () => {
    expect(toNodeRaw(headers)).toEqual(['Host', 'a', 'VIA', '1.1 x', 'via', '1.1 y', 'X-Via', 'no', 'Vi', 'no', 'Content-Type', 't']);
    expect(toNodeRaw([])).toEqual([]);
  });
});
