/** Wall-clock and monotonic time, injected everywhere so tests can control time (STYLE habit 3). */
export interface Clock {
  /** Milliseconds since the epoch (for Date headers, logs, cache ages). */
  now(): number;
  /** Milliseconds from an arbitrary origin that never goes backwards (for durations and timings). */
  monotonic(): number;
}

/** A source of uniform numbers in [0, 1); seeded in tests. */
export type Random = () => number;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

export const systemRandom: Random = () => Math.random();

/** A small deterministic PRNG (mulberry32) for tests and reproducible benches. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
