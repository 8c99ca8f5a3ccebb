/** Where a list entry came from, so a decision can name the line that matched. */
export interface ListEntry {
  readonly domain: string;
  readonly file: string;
  readonly line: number;
}

/**
 * Domains with all their subdomains: a Map keyed by the normalised domain, looked up by walking the host's suffixes
 * at each dot (`a.b.example.com`, `b.example.com`, `example.com`, `com`). One Map probe per label, no regex, so 200k
 * entries cost one build and ~1 µs per host (LIBRARIES.md §6). The most specific entry wins.
 */
export class SuffixIndex {
  private readonly entries = new Map<string, ListEntry>();
  /** Whether any entry is a bare TLD; if none is, the last suffix of a host is never probed. */
  private singleLabel = false;

  get size(): number {
    return this.entries.size;
  }

  /** Keeps the first entry for a domain (its first line is the one an admin looks for). */
  add(entry: ListEntry): void {
    if (this.entries.has(entry.domain)) return;
    this.entries.set(entry.domain, entry);
    if (!entry.domain.includes('.')) this.singleLabel = true;
  }

  /** The entry covering `host` (already normalised), or undefined. */
  match(host: string): ListEntry | undefined {
    return this.matchSuffixes(suffixes(host));
  }

  /**
   * The same over precomputed suffixes, most specific first: one decision walks the host once and every category
   * probes the same strings (whose hashes V8 then computes once).
   */
  matchSuffixes(list: readonly string[]): ListEntry | undefined {
    const n = this.singleLabel || list.length === 1 ? list.length : list.length - 1;
    for (let i = 0; i < n; i++) {
      const hit = this.entries.get(list[i] as string);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}

/** `a.b.example.com` → [`a.b.example.com`, `b.example.com`, `example.com`, `com`]. */
export function suffixes(host: string): string[] {
  const out = [host];
  for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) out.push(host.slice(dot + 1));
  return out;
}
