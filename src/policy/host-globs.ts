import picomatch from 'picomatch';
import { hostSuffixes, normaliseHost } from './host.js';

interface CompiledGlob { readonly pattern: string; readonly test: (host: string) => boolean }

const GLOB_CHARS = /[*?[\]{}()!+@\\]/;
const PM_OPTIONS = { nocase: true, dot: true } as const;

/**
 * Host patterns of one rule, compiled once: literals in a Set (`example.com`), `.example.com` as the apex and every
 * subdomain (a suffix walk), real globs with picomatch (`*` crosses dots, LIBRARIES.md §6), bucketed by their literal
 * label-aligned tail (`*.ads.example.com` → `ads.example.com`) so a host only runs the globs that can match it.
 */
export class HostGlobs {
  private readonly exact = new Map<string, string>();
  private readonly domains = new Map<string, string>();
  private readonly buckets = new Map<string, CompiledGlob[]>();
  private readonly wild: CompiledGlob[] = [];

  /** Throws (picomatch's message) on a pattern that cannot compile. */
  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) this.add(pattern);
  }

  private add(pattern: string): void {
    const p = pattern.trim().toLowerCase();
    if (!GLOB_CHARS.test(p)) {
      if (p.startsWith('.')) this.domains.set(normaliseHost(p.slice(1)), pattern);
      else this.exact.set(normaliseHost(p), pattern);
      return;
    }
    const glob: CompiledGlob = { pattern, test: picomatch(p, PM_OPTIONS) };
    const key = literalTail(p);
    if (key === '') {
      this.wild.push(glob);
      return;
    }
    const bucket = this.buckets.get(key);
    if (bucket) bucket.push(glob);
    else this.buckets.set(key, [glob]);
  }

  /** The pattern that matches `host` (normalised), or undefined. */
  match(host: string): string | undefined {
    return this.matchSuffixes(host, hostSuffixes(host));
  }

  /** match() with the host's suffixes already made (hostSuffixes), as a policy decision shares them. */
  matchSuffixes(host: string, suffixes: readonly string[]): string | undefined {
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    for (const rest of suffixes) {
      const domain = this.domains.get(rest);
      if (domain !== undefined) return domain;
      const bucket = this.buckets.get(rest);
      if (bucket !== undefined) for (const g of bucket) if (g.test(host)) return g.pattern;
    }
    for (const g of this.wild) if (g.test(host)) return g.pattern;
    return undefined;
  }
}

/** The whole labels after the last glob character: `*.b.example.com` → `b.example.com`, `ads*.x.com` → `x.com`. */
export function literalTail(pattern: string): string {
  let last = -1;
  for (let i = 0; i < pattern.length; i++) if (GLOB_CHARS.test(pattern[i] as string)) last = i;
  const tail = pattern.slice(last + 1);
  if (tail.startsWith('.')) return tail.slice(1);
  const dot = tail.indexOf('.');
  return dot < 0 ? '' : tail.slice(dot + 1);
}
