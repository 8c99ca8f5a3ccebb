import type { ParsedList } from './list-parse.js';
import { SuffixIndex, type ListEntry } from './suffix-index.js';

/** A named list (`rules/lists/ads.txt` → `ads`): domains with their subdomains, minus Adblock exceptions. */
export interface Category {
  readonly name: string;
  readonly files: readonly string[];
  readonly size: number;
  readonly skipped: number;
  /** The entry that puts a host in this category, unless an exception takes it out; `suffixes` from suffix-index. */
  match(suffixes: readonly string[]): ListEntry | undefined;
}

/** Several files may feed one category (e.g. `ads.txt` and `ads.hosts` both → `ads`). */
export function buildCategory(name: string, lists: ReadonlyArray<{ file: string; parsed: ParsedList }>): Category {
  const blocks = new SuffixIndex();
  const exceptions = new SuffixIndex();
  let skipped = 0;
  for (const { parsed } of lists) {
    for (const e of parsed.entries) blocks.add(e);
    for (const e of parsed.exceptions) exceptions.add(e);
    skipped += parsed.skipped;
  }
  const hasExceptions = exceptions.size > 0;
  return {
    name, files: lists.map((l) => l.file), size: blocks.size, skipped,
    match: (list) => (hasExceptions && exceptions.matchSuffixes(list) !== undefined ? undefined : blocks.matchSuffixes(list)),
  };
}
