/** 32-bit FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so nearby keys spread over the ring. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface BoundedLoadOptions {
  /** Google's "consistent hashing with bounded loads": no backend takes more than c × its fair share (≥ 1; 0 = off). */
  readonly balanceFactor: number;
}

export const DEFAULT_BOUNDED_LOAD: BoundedLoadOptions = { balanceFactor: 1.25 };

/** Per-backend cap on in-flight requests for this pick, or Infinity when bounded loads are off. */
export function loadCap(totalActive: number, weight: number, totalWeight: number, opts: BoundedLoadOptions): number {
  if (opts.balanceFactor <= 0 || totalWeight <= 0) return Infinity;
  return Math.ceil((opts.balanceFactor * (totalActive + 1) * weight) / totalWeight);
}
