import { hostSuffixes } from './host.js';
import type { ParsedList } from './list-parse.js';
/** Where a list entry came from, so a decision can name the line that matched. */
export interface ListEntry {
  readonly domain: string;
  readonly file: string;
  readonly line: number;
}

/** A named list (`rules/lists/ads.txt` → `ads`): domains with their subdomains, minus Adblock exceptions. */
export interface Category {
  readonly name: string;
  readonly files: readonly string[];
  readonly size: number;
  readonly skipped: number;
  /** The entry that puts `host` (normalised) in this category, unless an exception takes it out. */
  match(host: string): ListEntry | undefined;
}

interface Tag { readonly category: string; readonly entry: ListEntry; readonly exception: boolean }

const NONE: ReadonlyMap<string, ListEntry> = new Map();

/**
 * Every category's domains in ONE Map (domain → tags), probed once per label of the host (`a.b.example.com`,
 * `b.example.com`, `example.com`): a decision that asks about several categories walks the host once, instead of
 * once per list. 200k entries cost one build and ~1 µs per host (LIBRARIES.md §6).
 */
export class CategoryIndex {
  private readonly tags = new Map<string, Tag[]>();
  /** If no entry is a bare TLD, the last label of a host is never probed. */
  private singleLabel = false;

  /** False when the category already had this domain (the first line is kept: it is the one an admin looks for). */
  add(category: string, entry: ListEntry, exception: boolean): boolean {
    if (!entry.domain.includes('.')) this.singleLabel = true;
    const list = this.tags.get(entry.domain);
    if (list === undefined) {
      this.tags.set(entry.domain, [{ category, entry, exception }]);
      return true;
    }
    if (list.some((t) => t.category === category && t.exception === exception)) return false;
    list.push({ category, entry, exception });
    return true;
  }

  /** Category → the most specific entry covering `host`; an exception at any level takes the host out. */
  lookup(host: string): ReadonlyMap<string, ListEntry> {
    return this.lookupSuffixes(hostSuffixes(host));
  }

  /** lookup() over the host's suffixes already made (hostSuffixes: the host first, its last label last). */
  lookupSuffixes(suffixes: readonly string[]): ReadonlyMap<string, ListEntry> {
    let hits: Map<string, ListEntry> | undefined;
    let excluded: Set<string> | undefined;
    // The last label alone (a TLD) is probed only when some entry is one, or when it is the whole host.
    const n = this.singleLabel || suffixes.length === 1 ? suffixes.length : suffixes.length - 1;
    for (let i = 0; i < n; i++) {
      const tags = this.tags.get(suffixes[i] as string);
      if (tags === undefined) continue;
      for (const t of tags) {
        if (t.exception) (excluded ??= new Set()).add(t.category);
        else if (!hits?.has(t.category)) (hits ??= new Map()).set(t.category, t.entry);
      }
    }
    if (hits && excluded) for (const c of excluded) hits.delete(c);
    return hits ?? NONE;
  }
}

/** Builds the shared index and one Category view per name; several files may feed one category. */
export function buildCategories(lists: ReadonlyArray<{ category: string; file: string; parsed: ParsedList }>): {
  categories: Map<string, Category>; index: CategoryIndex;
} {
  const index = new CategoryIndex();
  const info = new Map<string, { files: string[]; size: number; skipped: number }>();
  for (const { category, file, parsed } of lists) {
    const i = info.get(category) ?? { files: [], size: 0, skipped: 0 };
    info.set(category, i);
    i.files.push(file);
    i.skipped += parsed.skipped;
    for (const e of parsed.entries) if (index.add(category, e, false)) i.size++;
    for (const e of parsed.exceptions) index.add(category, e, true);
  }
  const categories = new Map<string, Category>();
  for (const [name, i] of info) {
    categories.set(name, { name, files: i.files, size: i.size, skipped: i.skipped, match: (host) => index.lookup(host).get(name) });
  }
  return { categories, index };
}
