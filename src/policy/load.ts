import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { buildPolicy, type PolicyOptions, type PolicySources } from './compile.js';
import { ListFormats } from './list-formats.js';
import { parseList } from './list-parse.js';
import type { Policy } from './model.js';
import { parseRulesFile } from './rules-file.js';

const RULE_EXTENSIONS = new Set(['.yaml', '.yml']);
const LIST_EXTENSIONS = new Set(['.txt', '.hosts', '.list']);
export const LISTS_DIR = 'lists';

export interface LoadedPolicy {
  readonly policy: Policy;
  /** Things worth a log line that are not errors (skipped Adblock syntax, a missing rules folder). */
  readonly notes: string[];
}

/**
 * Reads the rules folder: `*.yaml` rule files in name order (their rules concatenated, first match wins), and
 * `lists/NAME.{txt,hosts,list}` as category NAME (format named by `options.listFormats`, else detected per file).
 * A missing folder is an empty policy.
 * Throws PolicyError (file:line) on the first broken file: a policy is loaded whole or not at all.
 */
export async function loadPolicy(dir: string, options: PolicyOptions): Promise<LoadedPolicy> {
  const notes: string[] = [];
  const top = await listDir(dir);
  if (top === undefined) notes.push(`rules folder ${dir} does not exist: no rules, default action ${options.defaultAction}`);
  const ruleFiles: Array<PolicySources['ruleFiles'][number]> = [];
  for (const name of (top ?? []).filter((n) => RULE_EXTENSIONS.has(extname(n)))) {
    const file = join(dir, name);
    ruleFiles.push({ file, parsed: parseRulesFile(await readFile(file, 'utf8'), file) });
  }
  const lists: Array<PolicySources['lists'][number]> = [];
  const formats = new ListFormats(options.listFormats ?? {});
  for (const name of (await listDir(join(dir, LISTS_DIR))) ?? []) {
    if (!LIST_EXTENSIONS.has(extname(name))) continue;
    const file = join(dir, LISTS_DIR, name);
    const parsed = parseList(await readFile(file, 'utf8'), file, formats.formatOf(LISTS_DIR, name));
    if (parsed.skipped > 0) notes.push(`${file}: ${parsed.format} list, ${parsed.skipped} entries of other syntax skipped`);
    lists.push({ category: basename(name, extname(name)), file, parsed });
  }
  for (const key of formats.unused()) notes.push(`policy.listFormats: "${key}" matches no list in ${join(dir, LISTS_DIR)}`);
  return { policy: buildPolicy({ ruleFiles, lists }, options), notes };
}

/** Sorted file names, or undefined when the folder does not exist. */
async function listDir(dir: string): Promise<string[] | undefined> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
