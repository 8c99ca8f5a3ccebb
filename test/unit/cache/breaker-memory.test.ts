import { describe, expect, it } from 'vitest';
import { Breaker } from '../../../src/cache/breaker.js';
import { createMemoryStore } from '../../../src/cache/stores/memory.js';
import { entry } from '../../conformance/cache-store.js';

describe('breaker', () => {
  it('opens after N consecutive failures, probes once per interval, closes on a success', () => {
    const b = new Breaker({ failureThreshold: 3, probeIntervalMs: 1000 });
    expect([b.failure(0), b.failure(1), b.success(), b.failure(2), b.failure(3)]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(b.failure(4)).toBe('opened');
    expect(b.failure(5)).toBeUndefined(); // logged once per outage
    expect([b.allow(10), b.allow(1003), b.allow(1004), b.allow(1500)]).toEqual([false, false, true, false]);
    expect(b.allow(2005)).toBe(true);
    expect(b.success()).toBe('closed');
    expect(b.allow(2006)).toBe(true);
  });
});

describe('memory store budget', () => {
  it('evicts the least recently used entries beyond maxMemoryBytes', async () => {
    const clock = { now: () => 1, monotonic: () => 1e6 };
    const store = createMemoryStore({ maxMemoryBytes: 10_000, maxObjectBytes: 5000, clock });
    for (let i = 0; i < 5; i++) await store.set(`k${i}`, entry(new Uint8Array(3000)), 60_000);
    const alive = await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await store.get(`k${i}`)) !== undefined));
    expect(alive).toEqual([false, false, true, true, true]);
  });

  it('a budget smaller than the object limit still works: entries above the budget are simply not kept', async () => {
    const clock = { now: () => 1, monotonic: () => 1e6 };
    const store = createMemoryStore({ maxMemoryBytes: 2000, maxObjectBytes: 8 * 1024 * 1024, clock });
    await store.set('small', entry(new Uint8Array(500)), 60_000);
    await store.set('big', entry(new Uint8Array(5000)), 60_000);
    expect([(await store.get('small')) !== undefined, (await store.get('big')) !== undefined]).toEqual([true, false]);
  });
});
