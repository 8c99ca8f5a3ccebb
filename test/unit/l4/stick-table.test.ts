import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../../src/l4/sessions.js';
import { StickTable } from '../../../src/l4/stick-table.js';

describe('StickTable', () => {
  it('keeps a client on its backend until it has been idle for the TTL', () => {
    const t = new StickTable({ ttlMs: 1000, maxEntries: 10 });
    t.stick('192.0.2.7', 'b1', 0);
    expect(t.lookup('192.0.2.7', 999)).toBe('b1');
    t.touch('192.0.2.7', 'b1', 900); // a connection ended at 900: idle from there
    expect(t.lookup('192.0.2.7', 1899)).toBe('b1');
    expect(t.lookup('192.0.2.7', 1900)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('touch does not move a client that was re-stuck elsewhere', () => {
    const t = new StickTable({ ttlMs: 1000, maxEntries: 10 });
    t.stick('c', 'b2', 0);
    t.touch('c', 'b1', 500);
    expect(t.lookup('c', 999)).toBe('b2');
    expect(t.lookup('c', 1000)).toBeUndefined();
  });

  it('sweep drops only expired entries, oldest first', () => {
    const t = new StickTable({ ttlMs: 100, maxEntries: 10 });
    t.stick('a', 'b1', 0);
    t.stick('b', 'b1', 50);
    t.stick('c', 'b2', 120);
    expect(t.sweep(149)).toBe(1);
    expect(t.lookup('b', 149)).toBe('b1');
    expect(t.sweep(300)).toBe(2);
    expect(t.size).toBe(0);
  });

  it('is bounded: the least recently used entry goes first', () => {
    const t = new StickTable({ ttlMs: 1e9, maxEntries: 2 });
    t.stick('a', 'b1', 0);
    t.stick('b', 'b1', 1);
    t.stick('a', 'b1', 2); // a used again
    t.stick('c', 'b2', 3);
    expect(t.lookup('b', 4)).toBeUndefined();
    expect(t.lookup('a', 4)).toBe('b1');
    expect(t.lookup('c', 4)).toBe('b2');
  });

  it('survives health flaps (nothing but TTL, size and forget removes entries) and inherits across reloads', () => {
    const t = new StickTable({ ttlMs: 1000, maxEntries: 10 });
    t.stick('a', 'b1', 0);
    t.stick('b', 'b2', 0);
    const next = new StickTable({ ttlMs: 1000, maxEntries: 10 });
    next.inherit(t, (id) => id !== 'b2');
    expect(next.lookup('a', 10)).toBe('b1');
    expect(next.lookup('b', 10)).toBeUndefined();
    t.forget('b1');
    expect(t.lookup('a', 10)).toBeUndefined();
    expect(t.lookup('b', 10)).toBe('b2');
  });
});

describe('SessionTable (UDP)', () => {
  it('expires sessions idle for idleMs, keeps active ones, and caps how many are open', () => {
    const t = new SessionTable<{ lastSeen: number; n: number }>(100, 2);
    expect(t.add('a', { lastSeen: 0, n: 1 })).toBe(true);
    expect(t.add('b', { lastSeen: 0, n: 2 })).toBe(true);
    expect(t.add('c', { lastSeen: 0, n: 3 })).toBe(false);
    t.get('b')!.lastSeen = 80;
    expect(t.expire(99)).toEqual([]);
    expect(t.expire(100).map(([k]) => k)).toEqual(['a']);
    expect(t.size).toBe(1);
    expect(t.expire(180).map(([k]) => k)).toEqual(['b']);
  });
});
