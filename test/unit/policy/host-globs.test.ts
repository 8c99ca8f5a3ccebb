import { describe, expect, it } from 'vitest';
import { HostGlobs, literalTail } from '../../../src/policy/host-globs.js';

describe('HostGlobs', () => {
  const globs = new HostGlobs(['exact.example', '.corp.example', '*.cdn.example', '**.ads.*', '{,*.}both.example', 'ads*.x.com']);
  it.each([
    ['exact.example', 'exact.example'],
    ['www.exact.example', undefined],
    ['corp.example', '.corp.example'],
    ['a.b.corp.example', '.corp.example'],
    ['a.cdn.example', '*.cdn.example'],
    ['a.b.cdn.example', '*.cdn.example'],
    ['cdn.example', undefined],
    ['x.ads.net', '**.ads.*'],
    ['ads.net', undefined],
    ['both.example', '{,*.}both.example'],
    ['w.both.example', '{,*.}both.example'],
    ['ads1.x.com', 'ads*.x.com'],
    ['notads.x.com', undefined],
  ])('%s → %s', (host, pattern) => {
    expect(globs.match(host)).toBe(pattern);
  });

  it.each([
    ['*.b.example.com', 'b.example.com'],
    ['ads*.x.com', 'x.com'],
    ['**.ads.*', ''],
    ['{,*.}example.com', 'com'],
  ])('literal tail of %s is %j', (p, tail) => {
    expect(literalTail(p)).toBe(tail);
  });
});
