import { describe, expect, it } from 'vitest';
import { ConnLimiter } from '../../../src/core/conn-limits.js';

describe('ConnLimiter', () => {
  it('refuses a client at its own limit while others are still admitted', () => {
    const l = new ConnLimiter({ maxTotal: 10, maxPerClient: 2 });
    expect(l.admit('a').ok).toBe(true);
    expect(l.admit('a').ok).toBe(true);
    expect(l.admit('a')).toEqual({ ok: false, limit: 'per-client' });
    expect(l.admit('b').ok).toBe(true);
    expect(l.count()).toBe(3);
    expect(l.count('a')).toBe(2);
  });

  it('refuses everyone once the total is reached, and admits again after a release', () => {
    const l = new ConnLimiter({ maxTotal: 2, maxPerClient: 5 });
    l.admit('a');
    l.admit('b');
    expect(l.admit('c')).toEqual({ ok: false, limit: 'total' });
    l.release('a');
    expect(l.admit('c').ok).toBe(true);
  });

  it('forgets a client with no connection left, and ignores releases it never admitted', () => {
    const l = new ConnLimiter({ maxTotal: 5, maxPerClient: 5 });
    l.admit('a');
    l.release('a');
    l.release('a');
    l.release('never');
    expect(l.count()).toBe(0);
    expect(l.clients()).toBe(0);
  });

  it('keys by the exact address string, including __proto__-like values', () => {
    const l = new ConnLimiter({ maxTotal: 5, maxPerClient: 1 });
    expect(l.admit('__proto__').ok).toBe(true);
    expect(l.admit('__proto__').ok).toBe(false);
    expect(l.admit('constructor').ok).toBe(true);
  });
});
