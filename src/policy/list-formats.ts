import picomatch from 'picomatch';
import type { ListFormat } from './list-parse.js';

/**
 * `policy.listFormats`: list files whose format is named in config instead of detected (detection reads the first
 * lines only, so a file that opens misleadingly or mixes syntaxes is read the way the admin says). Each key is a file
 * name or picomatch glob, matched against both the list's name (`ads.txt`, `*.hosts`) and its path in the rules
 * folder (`lists/ads.txt`). Compiled once per load; a file two keys claim with different formats is an error naming
 * both keys.
 */
export class ListFormats {
  private readonly keys: Array<{ key: string; format: ListFormat; test: (path: string) => boolean }>;
  private readonly used = new Set<string>();

  constructor(formats: Readonly<Record<string, ListFormat>>) {
    this.keys = Object.entries(formats).map(([key, format]) => ({ key, format, test: picomatch(key) }));
  }

  /** The named format of `lists/NAME`, or undefined: detect it from the content. */
  formatOf(listsDir: string, name: string): ListFormat | undefined {
    const path = `${listsDir}/${name}`;
    let found: { key: string; format: ListFormat } | undefined;
    for (const k of this.keys) {
      if (!k.test(name) && !k.test(path)) continue;
      this.used.add(k.key);
      if (found && found.format !== k.format) {
        throw new Error(`policy.listFormats: ${path} is named ${found.format} by "${found.key}" and ${k.format} by "${k.key}"`);
      }
      found ??= k;
    }
    return found?.format;
  }

  /** Keys that matched no list file so far: worth a note (a typo would silently leave detection in charge). */
  unused(): string[] {
    return this.keys.filter((k) => !this.used.has(k.key)).map((k) => k.key);
  }
}
